"""Grace's GDB commands: grace-cpus, grace-ps, grace-rcu, grace-ls, grace-trace.

build/gdbinit loads this file (`make gdb`); by hand:

    (gdb) source tools/gdb/grace.py

Each command reads the stopped kernel's own data structures through the
symbols of build/kernel.elf, with GDB's Python API only, and prints them:

    grace-cpus   per CPU: its GDB thread, the running process, preemption
                 count and RCU read depth, passes through the scheduler,
                 and the last grace period it reported a quiescent state to
    grace-ps     every process, like the shell's `ps` (kernel/proc.cc)
    grace-rcu    grace periods (current, completed), the CPUs that still
                 owe the current one a quiescent state, callbacks per CPU
                 and the oldest callback's age
    grace-ls     each scheme's current largestruct: address, checksum
                 (ls_checksum, as sys_lsread computes it), first bytes, and
                 what waits to be reclaimed, all found through the kernel's
                 registry of schemes (kernel/ls/ls.hh: each ls_scheme says
                 where its struct is and counts what waits)
    grace-trace [N]  the newest N (default 20) events of every CPU's trace
                 buffer (boot option trace=...), in the lines the kernel's
                 own dump prints (kernel/trace.cc), even when the kernel
                 cannot print them any more: after a panic, in a stall

The kernel prints the same state itself with sys_kprint("state") (and `ps` in
the shell); tests/tests_gdb.py checks that the two agree. GDB reads the
structures without taking the kernel's locks: with every CPU stopped that
is safe, but a CPU stopped in the middle of an update shows it half done.
"""

import struct

import gdb

PREEMPT_IRQ = 1 << 16        # kernel/preempt.hh: added while in an interrupt handler
TASK_STATES = ("run", "block", "zombie", "sleep")   # kernel/proc.hh task_state
MAX_LIST = 100000            # stop walking a list that seems to have no end
FIRST_BYTES = 24             # grace-ls shows this many bytes of each struct


class Kernel:
    """Access to the kernel's symbols for one command; every failure
    becomes a gdb.GdbError naming the command, so GDB prints one clear
    line instead of a Python traceback."""

    def __init__(self, command):
        self.command = command

    def fail(self, message):
        raise gdb.GdbError(f"{self.command}: {message}")

    def no_symbol(self, name, where=""):
        self.fail(f"no symbol '{name}'{where}: is build/kernel.elf loaded? "
                  "run `file build/kernel.elf` (make gdb does)")

    def check_target(self):
        """Fail unless GDB is attached to a stopped kernel."""
        if gdb.selected_thread() is None:
            self.fail("no kernel to read: start QEMU with `make run-gdb`, then "
                      "`make gdb` (or `target remote 127.0.0.1:PORT`)")

    def glob(self, name):
        """The value of global variable `name`."""
        sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
        if sym is None:
            self.no_symbol(name)
        return sym.value()

    def static_in(self, filename, name, required=True):
        """The value of `name` (file-static or in an anonymous namespace)
        defined in source file `filename`, e.g. kernel/ls/ls_rcu.cc."""
        for full in (name, f"(anonymous namespace)::{name}"):
            if hasattr(gdb, "lookup_static_symbols"):
                found = gdb.lookup_static_symbols(full)
            else:   # GDB before 10: only the first one
                found = [s for s in [gdb.lookup_static_symbol(full)] if s]
            for sym in found:
                if sym.symtab and sym.symtab.filename.endswith(filename):
                    return sym.value()
        if required:
            self.no_symbol(name, f" in {filename}")
        return None

    def type(self, name):
        try:
            return gdb.lookup_type(name)
        except gdb.error:
            self.no_symbol(name)

    def run(self, body, needs):
        """Run body() once the symbols in `needs` ("name" or "file:name")
        are known and a kernel is attached; a memory error becomes a clear
        message."""
        for need in needs:
            filename, _, name = need.rpartition(":")
            if filename:
                self.static_in(filename, name)
            elif not (gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)):
                self.no_symbol(name)
        self.check_target()
        try:
            body()
        except gdb.MemoryError as err:
            self.fail(f"cannot read kernel memory ({err}): the kernel's page "
                      "tables are not set up before kernel_main; "
                      "`thbreak kernel_main`, `continue`, and try again")


def unwrap(value):
    """The plain value inside a std::atomic<T> or an rcu_ptr<T> (libstdc++'s
    layouts: _M_i, _M_p, _M_b, _M_base, or a single base class)."""
    for _ in range(8):
        t = value.type.strip_typedefs()
        if t.code != gdb.TYPE_CODE_STRUCT:
            return value
        fields = t.fields()
        names = [f.name for f in fields]
        for member in ("_M_i", "_M_p", "p_", "_M_b", "_M_base"):
            if member in names:
                value = value[member]
                break
        else:
            bases = [f for f in fields if f.is_base_class]
            if len(bases) != 1:
                return value
            value = value[bases[0]]
    return value


def to_int(value):
    return int(unwrap(value))


def offset_of(struct_type, member):
    """offsetof(struct_type, member) in bytes."""
    for field in struct_type.strip_typedefs().fields():
        if field.name == member:
            return field.bitpos // 8
    raise gdb.GdbError(f"type {struct_type} has no member {member}")


def cast_address(address, struct_type):
    """A gdb.Value: `address` as a struct_type*."""
    return gdb.Value(address).cast(struct_type.pointer())


def list_entries(kernel, head, struct_type, member):
    """The objects on intrusive list `head` (a list_head), linked through
    their list_links `member` (kernel/list.hh), first to last."""
    sentinel = int(head["sentinel"].address)
    offset = offset_of(struct_type, member)
    link = int(head["sentinel"]["next"])
    if link == 0:
        kernel.fail(f"the list at {sentinel:#x} is not set up yet (kernel_main runs the "
                    "constructors first): `break idle_loop`, `continue`, and try again")
    entries = []
    while link != sentinel:
        if link == 0 or len(entries) >= MAX_LIST:
            kernel.fail(f"list at {sentinel:#x} is broken (a null link, or no end)")
        entries.append(cast_address(link - offset, struct_type))
        link = int(cast_address(link, kernel.type("list_links"))["next"])
    return entries


def proc_label(p):
    """"pid 3 gdbdemo" for a process, "idle1" for an idle task."""
    if int(p) == 0:
        return "-"
    name = p["name"].string()
    return name if bool(p["is_idle"]) else f"pid {int(p['pid'])} {name}"


def function_name(address):
    """The function at `address`, shortened for lambdas
    ("rcu_free<proc>(proc*)::{lambda(rcu_head*)#1}::_FUN(rcu_head*)" ->
    "rcu_free<proc>(proc*) lambda")."""
    block = gdb.block_for_pc(address)
    while block is not None and block.function is None:
        block = block.superblock
    if block is None:
        return f"{address:#x}"
    name = block.function.print_name
    if "::{lambda" in name:
        name = name[:name.index("::{lambda")] + " lambda"
    return name


def ticks_to_ms(kernel, ticks):
    hz = int(kernel.glob("kopts")["hz"]) or 1000
    return ticks * 1000 // hz


def rcu_numbers(kernel):
    """(gp_seq, running GP or 0, completed GPs, qs_pending mask)."""
    state = kernel.glob("rcu_state")
    seq = to_int(state["gp_seq"])
    running = (seq + 1) // 2 if seq & 1 else 0
    pending = to_int(state["qs_pending"]) if running else 0
    return seq, running, seq // 2, pending


def cpu_of_thread():
    """{APIC id: GDB thread number}. QEMU numbers its vCPU threads in the
    order of its CPUs, whose APIC ids are 0, 1, 2...: thread N is the CPU
    with APIC id N-1 (its "Target Id" says CPU#N-1)."""
    threads = {}
    for thread in gdb.selected_inferior().threads():
        lwp = thread.ptid[1] or thread.ptid[2]
        if lwp:
            threads[lwp - 1] = thread.num
    return threads


class GraceCpus(gdb.Command):
    """Per CPU: GDB thread (* = selected), running task, preemption count,
RCU read-section depth, passes through cpu::schedule, last quiescent state.

PREEMPT is the raw count (+0x10000 per interrupt level); DEPTH the nesting
of read sections, spinlocks and preempt_disable() below it. LAST QS is the
last grace period the CPU reported a quiescent state to, and when (by its
timer ticks); "owes GP n" marks a CPU the running grace period waits for;
an idle CPU is in an extended quiescent state and never holds one up."""

    def __init__(self):
        super().__init__("grace-cpus", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        kernel = Kernel("grace-cpus")
        kernel.run(lambda: self.show(kernel), ["cpus", "ncpu", "rcu_state"])

    def show(self, kernel):
        ncpu = int(kernel.glob("ncpu"))
        cpus = kernel.glob("cpus")
        _, running, completed, pending = rcu_numbers(kernel)
        threads = cpu_of_thread()
        selected = gdb.selected_thread().num
        gp = f"grace period {running} running" if running else "no grace period running"
        print(f"grace-cpus: {ncpu} CPUs (ncpu = {ncpu}); {gp}, {completed} completed")
        if ncpu == 0:
            print("  (no CPU counted yet: kernel_main has not reached acpi_find_cpus)")
            return
        print(f"{'CPU':>3}  {'THREAD':<6}  {'CURRENT':<20}  {'PREEMPT':>7}  {'DEPTH':>5}  "
              f"{'SCHEDULES':>9}  LAST QS")
        for i in range(ncpu):
            c = cpus[i]
            thread = threads.get(int(c["apic_id"]))
            thread_col = "?" if thread is None else f"{thread}{' *' if thread == selected else ''}"
            count = int(c["preempt_count"])
            rcu = c["rcu"]
            last = int(rcu["last_qs_gp"])
            if last:
                ago = ticks_to_ms(kernel, int(c["ticks"]) - int(rcu["last_qs_tick"]))
                qs = f"GP {last}, {ago} ms ago"
            else:
                qs = "none yet"
            if running and pending >> i & 1:
                qs += f"; owes GP {running}"
            if not to_int(rcu["dynticks"]) & 1:
                qs += "; idle (extended QS)"
            print(f"{i:>3}  {thread_col:<6}  {proc_label(c['current']):<20}  {count:>#7x}  "
                  f"{count % PREEMPT_IRQ:>5}  {int(c['schedule_count']):>9}  {qs}")


class GracePs(gdb.Command):
    """Every process, like the shell's `ps` (proc_dump in kernel/proc.cc):
pid, parent, state, home CPU (* = running now), name."""

    def __init__(self):
        super().__init__("grace-ps", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        kernel = Kernel("grace-ps")
        kernel.run(lambda: self.show(kernel), ["kernel/proc.cc:all_procs"])

    def show(self, kernel):
        procs = list_entries(kernel, kernel.static_in("kernel/proc.cc", "all_procs"),
                             kernel.type("proc"), "all_link")
        print(f"grace-ps: {len(procs)} processes")
        print("  PID  PPID  STATE   CPU  NAME")
        for p in procs:
            parent = unwrap(p["parent"])
            state = int(unwrap(p["state"]))
            state_name = TASK_STATES[state] if 0 <= state < len(TASK_STATES) else "?"
            mark = "*" if bool(unwrap(p["on_cpu"])) else " "
            kthread = " [kernel]" if bool(p["is_kthread"]) else ""
            print(f"{int(p['pid']):5d} {int(parent['pid']) if int(parent) else 0:5d}  "
                  f"{state_name:<6} {int(p['home_cpu']):4d}{mark} {p['name'].string()}{kthread}")


def callbacks(kernel, rcu_cpu):
    """The rcu_heads queued on one CPU, oldest first."""
    heads = []
    h = rcu_cpu["cb_head"]
    while int(h):
        if len(heads) >= MAX_LIST:
            kernel.fail("a callback list seems to have no end")
        heads.append(h)
        h = h["next"]
    return heads


class GraceRcu(gdb.Command):
    """RCU: the grace-period counter, the running and completed grace
periods, the CPUs that still owe the running one a quiescent state,
callbacks queued per CPU (grouped by function) and the oldest one's age."""

    def __init__(self):
        super().__init__("grace-rcu", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        kernel = Kernel("grace-rcu")
        kernel.run(lambda: self.show(kernel), ["rcu_state", "cpus", "ncpu"])

    def show(self, kernel):
        ncpu = int(kernel.glob("ncpu"))
        cpus = kernel.glob("cpus")
        seq, running, completed, pending = rcu_numbers(kernel)
        needed = int(kernel.glob("rcu_state")["gp_seq_needed"])
        print(f"grace-rcu: gp_seq {seq} (needed up to {needed})")
        if running:
            print(f"  current grace period: {running} (running)")
        else:
            print(f"  current grace period: none running (the next is {completed + 1})")
        print(f"  completed grace periods: {completed}")
        owing = [f"cpu{i}" for i in range(ncpu) if pending >> i & 1]
        if running:
            print(f"  CPUs that still owe GP {running} a quiescent state: "
                  f"{' '.join(owing) or 'none'} (mask {pending:#x})")
        else:
            print("  CPUs that still owe a quiescent state: none (no grace period running)")
        per_cpu, by_function, oldest = [], {}, None
        for i in range(ncpu):
            heads = callbacks(kernel, cpus[i]["rcu"])
            per_cpu.append(f"cpu{i} {len(heads)}")
            for h in heads:
                name = function_name(int(h["fn"]))
                by_function[name] = by_function.get(name, 0) + 1
            if heads:
                age = int(cpus[i]["ticks"]) - int(heads[0]["queued_tick"])
                if oldest is None or age > oldest[0]:
                    oldest = (age, i, heads[0])
        total = sum(by_function.values())
        print(f"  callbacks queued: {', '.join(per_cpu)} (total {total})")
        for name, count in sorted(by_function.items(), key=lambda kv: -kv[1]):
            print(f"    {count} x {name}")
        if oldest is None:
            print("  oldest callback: none queued")
        else:
            age, cpu, h = oldest
            gp_needed = int(h["gp_needed"])
            print(f"  oldest callback: on cpu{cpu}, queued {ticks_to_ms(kernel, age)} ms ago "
                  f"({age} ticks), waits for GP {gp_needed // 2} (gp_seq {gp_needed}): "
                  f"{function_name(int(h['fn']))}")


def ls_checksum(data):
    """lib/checksum.cc's ls_checksum, for checking what GDB reads."""
    mask = (1 << 64) - 1
    m1, m2 = 0xff51afd7ed558ccd, (0x100000001b3 * 0x9e3779b97f4a7c15 | 1) & mask
    h = 0x9e3779b97f4a7c15 ^ ((len(data) * m1) & mask)
    for i in range(0, len(data), 8):
        w = int.from_bytes(data[i:i + 8], "little")
        h = ((h ^ w) * m2) & mask
        h = ((h << 29) | (h >> 35)) & mask
    h ^= h >> 30
    h = (h * 0xbf58476d1ce4e5b9) & mask
    h ^= h >> 27
    h = (h * 0x94d049bb133111eb) & mask
    h ^= h >> 31
    return h & 0x7fffffffffffffff


def enum_values(kernel, type_name):
    """{enumerator name: value} of a C++ enum type (names without scope)."""
    return {f.name.rpartition("::")[2]: f.enumval
            for f in kernel.type(type_name).strip_typedefs().fields()}


def current_largestruct(kernel, scheme):
    """The address of a scheme's current largestruct (0: none yet), found
    the way its ls_scheme's `current` says (kernel/ls/ls.hh: ls_where)."""
    where = enum_values(kernel, "ls_where")
    current = scheme["current"]
    at, how, offset = int(current["at"]), int(current["how"]), int(current["offset"])
    if how == where["in_place"]:
        return at
    word = int.from_bytes(bytes(gdb.selected_inferior().read_memory(at, 8)), "little")
    if how == where["pointer48"]:
        word &= (1 << 48) - 1
        if word >> 47:
            word |= 0xffff << 48   # sign-extend bit 47
    elif how != where["pointer"]:
        kernel.fail(f"scheme {scheme['name'].string()}: `current` is ls_where {how}, which "
                    "tools/gdb/grace.py does not know: teach current_largestruct() it")
    return word + offset if word else 0


def ls_waiting(scheme):
    """What the scheme has removed but not yet freed, in words: its
    `waiting` counter and `waiting_what` (kernel/ls/ls.hh)."""
    what = scheme["waiting_what"]
    text = what.string() if int(what) else "nothing: one struct, written in place"
    counter = scheme["waiting"]
    return f"{to_int(counter.dereference())} {text}" if int(counter) else text


class GraceLs(gdb.Command):
    """Each scheme's current largestruct: address, checksum of all LS_SIZE
bytes (ls_checksum: what sys_lsread(scheme, LS_SIZE) returns), the first
bytes, and what the scheme has removed but not yet reclaimed."""

    def __init__(self):
        super().__init__("grace-ls", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        kernel = Kernel("grace-ls")
        kernel.run(lambda: self.show(kernel), ["kernel/ls/ls.cc:schemes", "cpus"])

    def show(self, kernel):
        schemes = kernel.static_in("kernel/ls/ls.cc", "schemes")
        size = kernel.type("largestruct").sizeof
        inferior = gdb.selected_inferior()
        print(f"grace-ls: each scheme's current largestruct ({size} bytes)")
        for i in range(schemes.type.range()[1] + 1):
            scheme = schemes[i]
            if not int(scheme):
                continue
            name = scheme["name"].string()
            address = current_largestruct(kernel, scheme)
            if not address:
                print(f"{name:<9} (no struct yet)")
                continue
            data = bytes(inferior.read_memory(address, size))
            first = "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02x}"
                            for b in data[:FIRST_BYTES])
            print(f"{name:<9} {address:#018x}  checksum {ls_checksum(data)}  first \"{first}\"")
            print(f"{'':<9} waiting to be reclaimed: {ls_waiting(scheme)}")


TRACE_EVENT = struct.Struct("<QQQIHH")   # kernel/trace.hh: struct trace_event


def c_strings(kernel, name):
    """The entries of a kernel array of C strings, up to its end or a null."""
    array = kernel.glob(name)
    low, high = array.type.range()
    out = []
    for i in range(low, high + 1):
        if not int(array[i]):
            break
        out.append(array[i].string())
    return out


def format_trace_arg(spec, value, qs_names):
    """" name=value" for one argument, exactly as format_arg in
    kernel/trace.cc prints it."""
    name, colon, fmt = spec.partition(":")
    if not spec or not colon:
        return ""
    if fmt == "x":
        return f" {name}=0x{value:x}"
    if fmt == "s":
        chars = []
        for i in range(8):
            b = value >> (8 * i) & 0xff
            if not b:
                break
            chars.append(chr(b) if 32 < b < 127 else "_")
        return f" {name}={''.join(chars) or '-'}"
    if fmt == "q":
        return f" {name}={qs_names[value] if value < len(qs_names) else '?'}"
    return f" {name}={value}"


class GraceTrace(gdb.Command):
    """grace-trace [N]: the newest N events (default 20) of every CPU's trace
buffer, oldest first, in the lines the kernel's dump prints
("trace: CPU SEQ NS EVENT ARGS", kernel/trace.cc). Needs the boot option
trace=rcu,sched,read (or some of them). It reads the buffers whether or
not the kernel has dumped them, so after a panic or in a hung grace
period it shows what led there."""

    def __init__(self):
        super().__init__("grace-trace", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        kernel = Kernel("grace-trace")
        words = arg.split()
        if len(words) > 1 or (words and not (words[0].isdigit() and int(words[0]) > 0)):
            kernel.fail("usage: grace-trace [N]   (N > 0 events per CPU, default 20)")
        count = int(words[0]) if words else 20
        kernel.run(lambda: self.show(kernel, count),
                   ["trace_cpus", "trace_capacity", "trace_kinds", "trace_qs_names", "ncpu"])

    def show(self, kernel, count):
        capacity = int(kernel.glob("trace_capacity"))
        if capacity == 0:
            print("grace-trace: tracing is off (boot with OPTS=trace=rcu,sched,read)")
            return
        kinds = kernel.glob("trace_kinds")
        table = []
        for i in range(kinds.type.range()[1] + 1):
            table.append((kinds[i]["name"].string(),
                          [kinds[i]["args"][j].string() for j in range(3)]))
        qs_names = c_strings(kernel, "trace_qs_names")
        inferior = gdb.selected_inferior()
        ncpu = int(kernel.glob("ncpu"))
        print(f"grace-trace: the newest {count} events of each of {ncpu} CPUs "
              f"({capacity} kept per CPU)")
        for cpu in range(ncpu):
            t = kernel.glob("trace_cpus")[cpu]
            head, base = int(t["head"]), int(t["events"])
            first = max(0, head - capacity, head - count)
            print(f"grace-trace: cpu={cpu} events={head - first} of {head} recorded")
            for seq in range(first, head):
                raw = bytes(inferior.read_memory(base + (seq & (capacity - 1)) * TRACE_EVENT.size,
                                                 TRACE_EVENT.size))
                ns, a, b, c, kind, _ = TRACE_EVENT.unpack(raw)
                if kind >= len(table):
                    text = f"unknown kind={kind}"
                else:
                    name, specs = table[kind]
                    text = name + "".join(format_trace_arg(spec, v, qs_names)
                                          for spec, v in zip(specs, (a, b, c)))
                print(f"trace: {cpu} {seq} {ns} {text}")


GraceCpus()
GracePs()
GraceRcu()
GraceLs()
GraceTrace()
