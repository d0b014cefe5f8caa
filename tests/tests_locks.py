"""The lock checker and might_sleep (kernel/lockdep.cc): each check provoked
on purpose by a self-test in kernel/ktest/ktest_lockdep.cc, which must
PANIC with the check's message naming the function that made the mistake.
Each was shown to bite by removing its check (`make mutate` keeps doing so:
tests/mutations.py). The checker also runs in every other debug boot of
the suite, where it must report nothing: a false report is a PANIC there.
"""

from testlib import test

FN = r"\(anonymous namespace\)::"


def lock_test(name, ktest, message, ncpu=2):
    """Declare test NAME: `ktest KTEST` must panic with `message` (a regex)."""
    test(name, prog="ktest", args=[ktest], ncpu=ncpu, timeout=30, status="panic",
         expect=[r"^PANIC: \[cpu\d\] " + message])


lock_test("lock-check-recursive", "lock-recursive",
          r"spinlock 'ktest.lock_a' acquired again by cpu\d in " + FN
          + r"take_twice\(\): this CPU already holds it \(taken in " + FN + r"take_twice")
lock_test("lock-check-release", "lock-release",
          r"spinlock 'ktest.lock_b' released by cpu\d in " + FN
          + r"release_unheld\(\), which does not hold it: nobody holds it")
lock_test("lock-check-inversion", "lock-inversion",
          r"lockdep: lock order inversion: " + FN + r"b_then_a\(\) takes 'ktest.lock_a' while "
          r"holding 'ktest.lock_b' \(taken in " + FN + r"b_then_a\(\)\), but the opposite order "
          r"was seen first: " + FN + r"a_then_b\(void\*\) took 'ktest.lock_b' while holding "
          r"'ktest.lock_a' \(taken in " + FN + r"a_then_b")
lock_test("lock-check-order", "lock-order",
          r"lockdep: lock order violated: " + FN + r"against_lock_order\(\) takes "
          r"'proc_tree_lock' \(#\d+ in THE LOCK ORDER\) while holding 'runq_lock' \(#\d+, taken "
          r"in " + FN + r"against_lock_order\(\)\)")
lock_test("lock-check-same-class", "lock-same-class",
          r"lockdep: " + FN + r"two_of_a_class\(\) takes a second 'runq_lock' lock while "
          r"holding one")
lock_test("lock-check-held", "lock-held",
          r"rcu_ptr::load_locked\(\) requires spinlock 'ktest.lock_a' held by this CPU \(cpu\d\), "
          r"but nobody holds it \(in " + FN + r"load_locked_unheld")
lock_test("lock-check-this-cpu", "this-cpu",
          r"this_cpu\(\) called from " + FN + r"this_cpu_preemptible\(\) with preemption and "
          r"interrupts enabled")
lock_test("lock-check-sleep-spinlock", "sleep-spinlock",
          r"msleep\(\) called from " + FN + r"sleep_under_spinlock\(\) holding spinlock "
          r"'ktest.lock_a' \(taken in " + FN + r"sleep_under_spinlock")
lock_test("lock-check-sleep-irqoff", "sleep-irqoff",
          r"msleep\(\) called from " + FN + r"sleep_irqs_off\(\) with interrupts disabled")
lock_test("lock-check-sync-irqoff", "rcu-sync-irqoff",
          r"synchronize_rcu\(\) called from " + FN + r"sync_irqs_off\(\) with interrupts disabled")
