// kernel/options.cc: the boot options (`make run OPTS="hz=100 poison=0"`),
// parsed from the kernel command line into `kopts` (kernel.hh).
//
// Every option is one row of OPTIONS below: its name, the field it sets,
// the values it accepts and what it means. A new option is a new field in
// boot_options and a new row here; `options=help` on the command line
// prints the table.
#include "kernel.hh"
#include "printf.hh"
#include "cpu.hh"

boot_options kopts;

namespace {
// One boot option: `name=value` sets `*flag` (0 or 1) or `*number`
// (within [min, max]).
struct option {
    const char* name;
    bool* flag;
    unsigned* number;
    long min, max;
    const char* meaning;
};

constexpr option OPTIONS[] = {
    {"hz", nullptr, &kopts.hz, 10, 10000, "timer ticks per second on every CPU"},
    {"poison", &kopts.poison, nullptr, 0, 1, "fill freed memory with 0x6b and check it on reuse"},
    {"rcu_stall_ms", nullptr, &kopts.rcu_stall_ms, 1, 3600000, "report a grace period older than this"},
    {"ls_sync", &kopts.ls_sync, nullptr, 0, 1, "LS_RCU writers wait in synchronize_rcu instead of call_rcu"},
    {"hazptr_asym", &kopts.hazptr_asym, nullptr, 0, 1, "hazard pointers: the fence-free read side"},
    {"gdb", &kopts.gdb, nullptr, 0, 1, "a panic halts every CPU and QEMU stays up for GDB"},
    {"smp_late_ap", nullptr, &kopts.smp_late_ap, 0, MAXCPU - 1,
     "test: the boot gives up on CPU N at once and parks it (0: none)"},
};

// set_option(key, value): apply one `key=value`; false if no option takes it.
bool set_option(const char* key, const char* value) {
    long v = 0;
    if (!parse_long(value, &v)) return false;
    for (const option& o : OPTIONS) {
        if (strcmp(key, o.name) != 0) continue;
        if (v < o.min || v > o.max) return false;
        if (o.flag) *o.flag = v != 0;
        else *o.number = unsigned(v);
        return true;
    }
    return false;
}

void print_options() {
    console_printf("grace: boot options (OPTS=\"name=value ...\"):\n");
    for (const option& o : OPTIONS) {
        char range[32];
        snprintf(range, sizeof(range), "%ld..%ld", o.min, o.max);
        console_printf("  %-14s %-12s %s\n", o.name, range, o.meaning);
    }
}
}

void parse_boot_options(char* s) {
    char* tok[64];
    int n = 0;
    while (*s && n < 64) {
        while (*s == ' ') *s++ = 0;
        if (!*s) break;
        tok[n++] = s;
        while (*s && *s != ' ') ++s;
    }
    // tok[0] is the kernel's file name; "--" starts the first program's argv.
    for (int i = 1; i < n; ++i) {
        if (strcmp(tok[i], "--") == 0) {
            if (i + 1 < n) kopts.init = tok[i + 1];
            for (int j = i + 1; j < n && kopts.init_argc < 15; ++j) {
                kopts.init_argv[kopts.init_argc++] = tok[j];
            }
            break;
        }
        char* eq = strchr(tok[i], '=');
        if (!eq) continue;                         // "grace", the kernel's own name
        *eq = 0;
        if (strcmp(tok[i], "options") == 0 && strcmp(eq + 1, "help") == 0) print_options();
        else if (!set_option(tok[i], eq + 1)) {
            console_printf("grace: ignoring unknown or bad boot option '%s=%s'\n", tok[i], eq + 1);
        }
    }
    if (kopts.init_argc == 0) kopts.init_argv[kopts.init_argc++] = kopts.init;
}
