// kernel/smp.hh: starting the other CPUs (smp.cc).
#pragma once

struct cpu;

// smp_start_aps(): start every other CPU the firmware lists, one at a
// time; ncpu counts those that came up in time.
void smp_start_aps();
// smp_ap_check_in(c), smp_park(c): ap_entry's first steps on CPU c: a CPU
// that checks in after the boot gave up on it parks for good.
bool smp_ap_check_in(cpu* c);
[[noreturn]] void smp_park(cpu* c);
