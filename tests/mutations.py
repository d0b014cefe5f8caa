"""The deliberate bugs of `make mutate` (tools/mutate.py): each one replaces
one exact piece of the kernel's source, and the suite must notice, i.e. one
of the tests listed with it must fail on the mutated kernel.

Add one with

    mutation("short-name", "kernel/file.cc",
             find="text that occurs exactly once in the file",
             replace="what it becomes",
             tests=["the-test-most-likely-to-fail-2", "another-2"],
             what="the bug, in words")

and run `make mutate MUTANTS=short-name`. List the tests that should catch
it, the quickest and surest first: they run in that order until one fails.
A mutation that no longer applies (its text changed) stops the run before
anything is built, naming it. A mutation that survives is a gap in the
suite: write the test that kills it, never loosen the mutation.

A mutation whose text quotes a pset's solution sits in an EXPLANATION
region of that pset (tools/markers.py), so that no handout shows it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str
    find: str
    replace: str
    tests: tuple[str, ...]
    what: str
    area: str


MUTATIONS: dict[str, Mutation] = {}
_area = ""


def area(name: str) -> None:
    """The mutations declared after this call break `name`."""
    global _area
    _area = name


def mutation(name: str, file: str, *, find: str, replace: str, tests, what: str) -> None:
    if name in MUTATIONS:
        raise ValueError(f"mutation {name} declared twice")
    if not tests or isinstance(tests, str):
        raise ValueError(f"mutation {name}: tests must be a non-empty list")
    if find == replace:
        raise ValueError(f"mutation {name}: replace is the same as find")
    MUTATIONS[name] = Mutation(name, file, find, replace, tuple(tests), what, _area)


RCU = "kernel/rcu.cc"

area("grace-period start")
mutation("gp-start-skips-last-cpu", RCU,
         find="    for (int i = 0; i < ncpu; ++i) {\n        // Idle CPUs",
         replace="    for (int i = 0; i < ncpu - 1; ++i) {\n        // Idle CPUs",
         tests=["rcu-expedited-ipi-3", "rcu-gp-inflight-3"],
         what="a new GP does not wait for the last CPU")
mutation("snap-ignores-gp-in-flight", RCU,
         find="return (rcu_state.gp_seq.load(std::memory_order_acquire) + 3) & ~uint64_t(1);",
         replace="return (rcu_state.gp_seq.load(std::memory_order_acquire) + 2) & ~uint64_t(1);",
         tests=["rcu-gp-inflight-3", "rcu-cb-inflight-3"],
         what="snap() takes the end of a GP already in flight as a full GP from now")

area("grace-period end")
# BEGIN PSET 2 EXPLANATION
# STUB: # (gp-ends-before-last-qs: a bug in pset 2's code, in the solution tree only)
mutation("gp-ends-before-last-qs", RCU,
         find="    if ((old & ~bit) == 0) {\n        spinlock_guard lg(rcu_state.lock);",
         replace="    if (true) {\n        spinlock_guard lg(rcu_state.lock);",
         tests=["rcu-wait-reader-2", "rcu-gp-inflight-3"],
         what="any CPU's quiescent state ends the GP, not the last one")
# END PSET 2 EXPLANATION

area("quiescent-state reporting")
# BEGIN PSET 5 EXPLANATION
# STUB: # (tick-reports-qs-in-section: its text is pset 5's code, in the solution tree only)
mutation("tick-reports-qs-in-section", RCU,
         find="    if (quiescent) {\n        rcu_note_qs_from(qs_from::tick);",
         replace="    if (true) {\n        rcu_note_qs_from(qs_from::tick);",
         tests=["rcu-wait-reader-2", "rcu-nested-2"],
         what="the tick reports a quiescent state even inside a read section")
# END PSET 5 EXPLANATION
mutation("tick-never-hurries-readers", RCU,
         find="        c->need_resched = 1;          // the outermost rcu_read_unlock will schedule",
         replace="        (void)c;",
         tests=["rcu-gp-progress-2"],
         what="a tick inside a read section the GP waits for does not ask for a reschedule")

area("idle")
mutation("idle-irq-not-watched", RCU,
         find="        r.dynticks.fetch_add(1);      // idle -> watching, a full fence\n"
              "        r.irq_from_idle = true;",
         replace="",
         tests=["rcu-idle-irq-2", "rcu-gp-idle-2"],
         what="an interrupt on an idle CPU may read under RCU while GPs ignore that CPU")

area("callbacks")
# BEGIN PSET 2 EXPLANATION
# STUB: # (cb-waits-for-gp-in-flight: a bug in pset 2's code, in the solution tree only)
mutation("cb-waits-for-gp-in-flight", RCU,
         find="    head->gp_needed = snap();",
         replace="    head->gp_needed = (rcu_state.gp_seq.load() + 1) & ~uint64_t(1);",
         tests=["rcu-cb-inflight-3"],
         what="call_rcu's callback waits only for the end of the GP in flight")
# END PSET 2 EXPLANATION
mutation("cb-runs-before-ready", RCU,
         find="while (r.cb_head && gp_done(r.cb_head->gp_needed) && n < 1000) {",
         replace="while (r.cb_head && n < 1000) {",
         tests=["rcu-cb-inflight-3", "rcu-barrier-2"],
         what="rcu_do_callbacks runs the whole list once its head is ready")

area("rcu_barrier")
mutation("barrier-counts-before-running", RCU,
         find="        if (!ready) break;\n"
              "        TRACE(cb_batch, n);\n"
              "        while (ready) {\n"
              "            rcu_head* next = ready->next;\n"
              "            TRACE(cb_invoke, uintptr_t(ready), ready->gp_needed / 2);\n"
              "            ready->fn(ready);\n"
              "            ready = next;\n"
              "        }\n"
              "        __atomic_fetch_add(&r.cb_invoked, n, __ATOMIC_RELEASE);\n",
         replace="        if (!ready) break;\n"
                 "        TRACE(cb_batch, n);\n"
                 "        __atomic_fetch_add(&r.cb_invoked, n, __ATOMIC_RELEASE);\n"
                 "        while (ready) {\n"
                 "            rcu_head* next = ready->next;\n"
                 "            TRACE(cb_invoke, uintptr_t(ready), ready->gp_needed / 2);\n"
                 "            ready->fn(ready);\n"
                 "            ready = next;\n"
                 "        }\n",
         tests=["rcu-barrier-slow-3"],
         what="callbacks are counted as invoked before they run, so rcu_barrier returns early")
mutation("barrier-waits-on-own-cpu", RCU,
         find="    for (int i = 0; i < ncpu; ++i) {  // ...and runs",
         replace="    for (int i = this_cpu_index(); i == this_cpu_index(); ++i) {  // ...and runs",
         tests=["rcu-barrier-slow-3"],
         what="rcu_barrier waits only for the caller's CPU's callbacks")

area("expedited")
mutation("expedited-ipi-reports-qs", "kernel/trap.cc",
         find="        if (preemptible) rcu_note_qs_from(qs_from::ipi);",
         replace="        rcu_note_qs_from(qs_from::ipi);",
         tests=["rcu-expedited-ipi-3", "rcu-expedited-2"],
         what="the expedited GP's IPI reports a quiescent state inside a read section")

area("read side")
# BEGIN PSET 2 EXPLANATION
# STUB: # (unlock-never-reschedules: a bug in pset 2's code, in the solution tree only)
mutation("unlock-never-reschedules", "kernel/rcu.hh",
         find="    if (__builtin_expect(preempt_count() == 0, 0)) rcu_read_unlock_underflow();\n"
              "#endif\n"
              "    preempt_enable();\n",
         replace="    if (__builtin_expect(preempt_count() == 0, 0)) rcu_read_unlock_underflow();\n"
                 "#endif\n"
                 "    preempt_enable_no_resched();\n",
         tests=["rcu-gp-progress-2"],
         what="the outermost rcu_read_unlock drops a reschedule the tick asked for")
# END PSET 2 EXPLANATION
# BEGIN PSET 2 EXPLANATION
# STUB: # (reader-outside-section: a bug in pset 2's code, in the solution tree only)
mutation("reader-outside-section", "kernel/ls/ls_rcu.cc",
         find="    rcu_read_guard g;\n",
         replace="",
         tests=["ls-hammer-rcu-2"],
         what="LS_RCU's reader reads outside a read section")
# END PSET 2 EXPLANATION

area("publish")
mutation("publish-before-fill", "kernel/ls/ls_rcu.cc",
         find="        node* n = ls_new_copy(old, data, len);\n"
              "        if (!n) return -ENOMEM;\n"
              "        current_ls.publish(n);\n",
         replace="        node* n = ls_new_copy<node>(nullptr, nullptr, 0);\n"
                 "        if (!n) return -ENOMEM;\n"
                 "        current_ls.publish(n);\n"
                 "        memcpy(n->ls.c, old->ls.c, LS_SIZE);\n"
                 "        memcpy(n->ls.c, data, len);\n",
         tests=["ls-hammer-rcu-2"],
         what="LS_RCU's writer publishes the new struct before filling it")

area("each scheme's rule (reclamation, or its lock)")
# BEGIN PSET 2 EXPLANATION
# STUB: # (rcu-frees-at-once: a bug in pset 2's code, in the solution tree only)
mutation("rcu-frees-at-once", "kernel/ls/ls_rcu.cc",
         find="        rcu_free(old);",
         replace="        delete old;",
         tests=["ls-hammer-rcu-2"],
         what="LS_RCU frees the old struct without waiting for a grace period")
# END PSET 2 EXPLANATION
mutation("spinlock-reader-unlocked", "kernel/ls/ls_spinlock.cc",
         find="long read(size_t len) {\n    spinlock_guard g(lock);",
         replace="long read(size_t len) {",
         tests=["ls-hammer-spinlock-2"],
         what="LS_SPINLOCK's reader does not take the lock")
# BEGIN PSET 1 EXPLANATION
# STUB: # (rwlock-reader-ignores-writer: a bug in pset 1's code, in the solution tree only)
mutation("rwlock-reader-ignores-writer", "kernel/rwlock.hh",
         find="            if (!(v & (WRITER | WAITING))",
         replace="            if (!(v & WAITING)",
         tests=["lock-rwlock-shared-2", "ls-hammer-rwlock-2"],
         what="a reader enters the rwlock while a writer holds it")
# END PSET 1 EXPLANATION
# BEGIN PSET 3 EXPLANATION
# STUB: # (hazptr-scan-ignores-hazards: a bug in pset 3's code, in the solution tree only)
mutation("hazptr-scan-ignores-hazards", "kernel/ls/ls_hazptr.cc",
         find="        if (const node* h = s.hazard.load(std::memory_order_acquire)) hazards[nhazards++] = h;",
         replace="        (void)s;",
         tests=["scheme-hazptr-sleep", "ls-hammer-hazptr-2"],
         what="a hazard-pointer scan frees structs that readers protect")
# END PSET 3 EXPLANATION
# BEGIN PSET 3 EXPLANATION
# STUB: # (hazptr-reader-without-fence: a bug in pset 3's code, in the solution tree only)
mutation("hazptr-reader-without-fence", "kernel/ls/ls_hazptr.cc",
         find="            } else {\n"
              "                smp_mb();\n"
              "            }\n",
         replace="            }\n",
         tests=["scheme-hazptr-store-buffer-2"],
         what="the symmetric hazard-pointer reader reloads without a fence after its hazard store")
# END PSET 3 EXPLANATION
# BEGIN PSET 3 EXPLANATION
# STUB: # (hazptr-asym-scan-without-ipi: a bug in pset 3's code, in the solution tree only)
mutation("hazptr-asym-scan-without-ipi", "kernel/ls/ls_hazptr.cc",
         find="    if (kopts.hazptr_asym) membarrier_all();",
         replace="    if (kopts.hazptr_asym) {}",
         tests=["scheme-hazptr-asym-store-buffer-2"],
         what="the asymmetric scanner reads the slots without its IPI barrier")
# END PSET 3 EXPLANATION
mutation("refcount-eraser-ignores-count", "kernel/ls/ls_refcount.cc",
         find="        if (n->refs.load(std::memory_order_acquire) == 0) {",
         replace="        if (true) {",
         tests=["scheme-refcount-sleep", "ls-hammer-refcount-2"],
         what="the reference-count eraser frees a struct a reader still counts")
mutation("diffref-frees-at-swap", "kernel/ls/ls_diffref.cc",
         find="    drop_inner(old, int64_t(outer));\n    return 0;",
         replace="    delete old;\n    return 0;",
         tests=["scheme-diffref-stress-4", "ls-hammer-diffref-2"],
         what="the differential-count writer frees the old struct at the swap")
mutation("lopsided-writer-skips-readers", "kernel/ls/ls_lopsided.cc",
         find="    wait_for_readers();\n    delete old;",
         replace="    delete old;",
         tests=["ls-hammer-lopsided-2"],
         what="the lopsided writer frees the old struct without waiting for readers")

area("the stall detector")
mutation("stall-never-reported", RCU,
         find="    if (age_ms < kopts.rcu_stall_ms) return;",
         replace="    if (age_ms < 1000 * kopts.rcu_stall_ms) return;",
         tests=["rcu-stall-2", "rcu-stall-start-2"],
         what="the stall warning waits a thousand times too long")

area("panic")
mutation("panic-console-unguarded", "kernel/console.cc",
         find="        if (owner != this_cpu_unchecked()->index) for (;;) asm volatile(\"cli; hlt\");\n",
         replace="",
         tests=["boot-panic-console"],
         what="a CPU the panic could not stop writes over the panic's lines")

area("the lock checker")
LOCKDEP = "kernel/lockdep.cc"
mutation("lockdep-misses-inversion", LOCKDEP,
         find="    if (reverse.seen.load(std::memory_order_acquire)) {",
         replace="    if (false) {",
         tests=["lock-check-inversion"],
         what="the checker records each pair's first order but never compares")
mutation("lockdep-ignores-lock-order", LOCKDEP,
         find="    if (hrank >= 0 && rank >= 0 && hrank > rank) {",
         replace="    if (false) {",
         tests=["lock-check-order"],
         what="the checker ignores THE LOCK ORDER")
mutation("lockdep-release-unchecked", LOCKDEP,
         find="    if (owner != c->index) {",
         replace="    if (false) {",
         tests=["lock-check-release"],
         what="releasing a spinlock this CPU does not hold goes unreported")
mutation("load-locked-unchecked", LOCKDEP,
         find="    return __atomic_load_n(&l->owner_cpu, __ATOMIC_RELAXED) == this_cpu_unchecked()->index;",
         replace="    return true;",
         tests=["lock-check-held"],
         what="assert_held and rcu_ptr::load_locked believe every lock is held")
mutation("might-sleep-ignores-interrupts", LOCKDEP,
         find="    if (count == 0 && irqs) return;",
         replace="    if (count == 0) return;",
         tests=["lock-check-sleep-irqoff", "lock-check-sync-irqoff"],
         what="sleeping with interrupts disabled goes unreported")
