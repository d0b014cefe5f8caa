// kernel/options.cc: the boot options (`make run OPTS="hz=100 poison=0"`),
// parsed from the kernel command line into `kopts` (kernel.hh).
//
// Every option is one row of OPTIONS below: its name, the field it sets,
// the values it accepts (a number range, 0/1, or a list of names) and what
// it means. A new option is a new field in
// boot_options and a new row here; `options=help` on the command line
// prints the table.
#include "kernel.hh"
#include "printf.hh"
#include "trace.hh"
#include "cpu.hh"

boot_options kopts;

namespace {
// One boot option: `name=value` sets `*flag` (0 or 1), `*number` (within
// [min, max]) or, for an option with `names`, the bits of `*number` named
// by a comma-separated list of names (bit i is names[i]; `all` sets every
// bit, `none` none).
struct option {
    const char* name;
    bool* flag;
    unsigned* number;
    long min, max;
    const char* meaning;
    const char* const* names = nullptr;   // nullptr-terminated
};

constexpr option OPTIONS[] = {
    {"hz", nullptr, &kopts.hz, 10, 10000, "timer ticks per second on every CPU"},
    {"poison", &kopts.poison, nullptr, 0, 1, "fill freed memory with 0x6b and check it on reuse"},
    {"rcu_stall_ms", nullptr, &kopts.rcu_stall_ms, 1, 3600000, "report a grace period older than this"},
    {"ls_sync", &kopts.ls_sync, nullptr, 0, 1, "LS_RCU writers wait in synchronize_rcu instead of call_rcu"},
    {"hazptr_asym", &kopts.hazptr_asym, nullptr, 0, 1, "hazard pointers: the fence-free read side"},
    {"gdb", &kopts.gdb, nullptr, 0, 1, "a panic halts every CPU and QEMU stays up for GDB"},
    {"trace", nullptr, &kopts.trace, 0, 0, "record these events per CPU (kernel/trace.hh)", TRACE_CLASS_NAMES},
    {"trace_buf", nullptr, &kopts.trace_buf, 16, 262144, "events kept per CPU while tracing"},
    {"trace_port", nullptr, &kopts.trace_port, 1, 2, "trace dumps go to the console (1) or COM2 (2)"},
    {"smp_late_ap", nullptr, &kopts.smp_late_ap, 0, MAXCPU - 1,
     "test: the boot gives up on CPU N at once and parks it (0: none)"},
};

// parse_names(value, names, &bits): a comma-separated list of names (or
// `all`, `none`) as bits; false if a name is unknown.
bool parse_names(const char* value, const char* const* names, unsigned* bits) {
    unsigned v = 0;
    while (*value) {
        const char* end = strchr(value, ',');
        size_t n = end ? size_t(end - value) : strlen(value);
        bool found = false;
        if (n == 3 && strncmp(value, "all", 3) == 0) {
            for (unsigned i = 0; names[i]; ++i) v |= 1u << i;
            found = true;
        } else if (n == 4 && strncmp(value, "none", 4) == 0) {
            found = true;
        }
        for (unsigned i = 0; names[i] && !found; ++i) {
            found = strlen(names[i]) == n && strncmp(value, names[i], n) == 0;
            if (found) v |= 1u << i;
        }
        if (!found || n == 0) return false;
        value += n + (end ? 1 : 0);
    }
    *bits = v;
    return true;
}

// set_option(key, value): apply one `key=value`; false if no option takes it.
bool set_option(const char* key, const char* value) {
    for (const option& o : OPTIONS) {
        if (strcmp(key, o.name) != 0) continue;
        if (o.names) return parse_names(value, o.names, o.number);
        long v = 0;
        if (!parse_long(value, &v) || v < o.min || v > o.max) return false;
        if (o.flag) *o.flag = v != 0;
        else *o.number = unsigned(v);
        return true;
    }
    return false;
}

void print_options() {
    console_printf("grace: boot options (OPTS=\"name=value ...\"):\n");
    for (const option& o : OPTIONS) {
        char range[48];
        size_t n = 0;
        if (o.names) {
            for (unsigned i = 0; o.names[i]; ++i) {
                n += snprintf(range + n, sizeof(range) - n, "%s%s", i ? "," : "", o.names[i]);
            }
        } else {
            snprintf(range, sizeof(range), "%ld..%ld", o.min, o.max);
        }
        console_printf("  %-14s %-14s %s\n", o.name, range, o.meaning);
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
