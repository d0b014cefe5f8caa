/*
 * model/rcu.pml: Grace's grace-period machinery (kernel/rcu.cc) as a
 * Promela model. The spin model checker explores every interleaving of it;
 * `make model` runs model/check.py, which checks each property on this
 * model and shows that each broken variant fails. docs/model.md says what
 * is modelled and what is abstracted away, how to read a trail, and how to
 * change the model when rcu.cc changes.
 *
 * THE MACHINE. 2 or 3 CPUs. CPU 0 runs the one updater: it publishes a new
 * version of one rcu_ptr (v0 -> v1, and then v1 -> v2) and frees the
 * version it replaced after a grace period, with call_rcu, synchronize_rcu
 * or synchronize_rcu_expedited (spin tries each). The other CPUs run read
 * sections (maybe nested), sleep in the idle loop, and take ticks and
 * IPIs, also while idle; a tick that wakes an idle CPU runs a read section
 * of its own. At the start a GP may already be running, asked for by
 * earlier writers.
 *
 * PROCESSES. Each CPU is a process `cpu` (model/cpu.pml); an interrupt
 * runs inside it (inline trap), so a CPU does one thing at a time while
 * the CPUs interleave. The grace-period state machine that the holder of the state
 * lock runs is the process `gp_machine`, only so that its code exists once:
 * the CPU calls it and waits for it (a rendezvous).
 *
 * GRANULARITY. A step does at most one load, store or atomic
 * read-modify-write of shared state, together with work that no other CPU
 * can see (its preemption count, need_resched, locals). Two exceptions,
 * both exact: rcu_note_qs's relaxed load and its fetch_and are one step
 * (only this CPU clears its bit, and no GP starts or ends while the bit is
 * set); and what only the lock holder writes (gp_seq, gp_seq_needed) is
 * read in the step that takes the lock.
 *
 * MEMORY MODEL: x86-TSO where the C code relies on it. A CPU's plain
 * stores to the pointer and to its dynticks counter wait in its store
 * buffer (one entry deep); its `store_buffer` process writes them to memory
 * at any later moment, and a fence or a locked instruction on that CPU
 * (mfence, lock xadd/and, xchg, a spinlock's cmpxchg) writes them first. The CPU
 * reads its own buffered store. TSO keeps loads in order and stores in
 * order, so nothing else needs modelling.
 *
 * PROPERTIES (model/check.py chooses them, see CONFIGURATION):
 *  safety    when a version is freed (its callback runs, or
 *            synchronize_rcu returned and the writer frees it), no task's
 *            read section that loaded it is still running.
 *  irq       the same for the read section of an interrupt that arrived
 *            on an idle CPU: the idle/interrupt protocol protects it. (A
 *            handler's read section on a busy CPU follows the quiescent
 *            state the tick reports, as a task's follows schedule(): the
 *            model leaves it out.)
 *  asserts   the C code's assert()s and panics, and the bound on gp_seq.
 *  liveness  the LTL formula at the end: if every CPU takes timer ticks
 *            forever, then every requested GP ends, the updater finishes
 *            and every queued callback runs. (Read sections are finite in
 *            the model; a reader that never leaves holds its GP forever.)
 *
 * BROKEN VARIANTS. Each line below names a way the C code could be
 * broken, the property that must then fail with a counterexample, and how
 * many CPUs that takes; model/check.py reads these lines. The code tests
 * the BROKEN() macro where a variant differs from rcu.cc.
 */
#define BROKEN_QS_NO_BIT_CHECK    1  /* safety 2: rcu_note_qs reports without checking that this CPU's bit is set for the running GP */
#define BROKEN_MASK_BEFORE_ODD    2  /* safety 3: start_gp_locked reads the idle CPUs before gp_seq turns odd */
#define BROKEN_SNAP_NO_FENCE      3  /* safety 2: snap() has no fence, so the publish may still wait in the store buffer */
#define BROKEN_SNAP_ROUNDING      4  /* safety 2: snap() returns (gp_seq + 1) & ~1, the end of the running GP */
#define BROKEN_IDLE_EXIT_PLAIN    5  /* safety 2: rcu_idle_exit bumps dynticks with a plain store, not a locked one */
#define BROKEN_IRQ_ENTER_PLAIN    6  /* irq 2: rcu_irq_enter bumps dynticks with a plain store, not a locked one */
#define BROKEN_IDLE_IRQ_SCHEDULES 7  /* safety 2: trap_dispatch schedules on its way back to the idle loop */
#define BROKEN_READ_LOCK_FLAG     8  /* safety 2: rcu_read_lock/unlock set and clear a flag instead of counting, so a nested unlock ends the outer section */
#define BROKEN_TICK_NO_RESCHED    9  /* liveness 2: a tick inside a read section does not ask for a reschedule */
#define BROKEN_NO_RESTART        10  /* liveness 2: complete_gp_locked does not start the GP that is already wanted */
#define BROKEN(v) (variant == BROKEN_##v)

/*
 * CONFIGURATION comes from the environment, so that one compiled verifier
 * checks every variant (compiling pan.c takes longer than most checks):
 * MODEL_NCPU (2 or 3), MODEL_UPDATES (1 or 2), MODEL_VARIANT (0 for rcu.cc
 * itself, or a BROKEN_ number), MODEL_CHECK (a sum of the CHECK_ bits).
 * Without them: 2 CPUs, 2 updates, rcu.cc, safety + irq + asserts. With 3
 * CPUs the third (CPU 2) only takes ticks: it reports quiescent states and
 * so ends and starts GPs while CPU 0 updates and CPU 1 reads and idles.
 */
c_code {
    int model_env(const char *name, int dflt) {
        const char *v = getenv(name);
        return v && *v ? atoi(v) : dflt;
    }
}
#define CHECK_SAFETY 1
#define CHECK_IRQ 2
#define CHECK_ASSERTS 4
#define CHECK_LIVENESS 8
#define CHECKING(p) ((checks & CHECK_##p) != 0)

byte ncpu, nupdates, variant, checks;   /* set once, in init */

#define MAXCPU 3
#define NONE 255
#define MAXSEQ 10           /* a bound on gp_seq; rcu.cc itself stays at 8 or below */
#define BIT(c) (1 << (c))

/* What a store buffer holds. */
#define SB_EMPTY 0
#define SB_PTR 1
#define SB_DYNTICKS 2

/* Interrupts (trap.cc: trap_dispatch()). */
#define KIND_TICK 0         /* INT_TIMER */
#define KIND_IPI 1          /* INT_IPI_RESCHED from synchronize_rcu_expedited or a wakeup of the updater */
#define KIND_WAKE 2         /* INT_IPI_RESCHED: enqueue() woke some task for this CPU */

/* The global state (rcu.cc: rcu_global). */
byte gp_seq;                /* rcu.cc: rcu_global::gp_seq */
byte gp_seq_needed;         /* rcu.cc: rcu_global::gp_seq_needed, under gp_lock */
byte qs_pending;            /* rcu.cc: rcu_global::qs_pending */
byte gp_lock;               /* rcu.cc: rcu_global::lock; 0 free, else holder + 1 */
bit gp_waiter;              /* rcu.cc: rcu_global::gp_wq holds the sleeping updater */

/* Per CPU (cpu.hh: rcu_cpu and cpu). */
bit dynticks[MAXCPU];       /* cpu.hh: rcu_cpu::dynticks, its parity, in memory */
bit irq_from_idle[MAXCPU];  /* cpu.hh: rcu_cpu::irq_from_idle */
byte preempt[MAXCPU];       /* cpu.hh: cpu::preempt_count, the read-section part */
bit need_resched[MAXCPU];   /* cpu.hh: cpu::need_resched */
bit in_idle[MAXCPU];        /* cpu.hh: cpu::in_idle */
bit ipi_pending[MAXCPU];    /* an IPI sent to the CPU and not yet taken */
byte sb_what[MAXCPU];       /* the CPU's store buffer: what it holds, */
byte sb_val[MAXCPU];        /* and the value */

/* The protected pointer and CPU 0's callback list. */
byte ptr;                   /* rcu.hh: rcu_ptr::p_, the version readers load */
byte cb_gp[2];              /* rcu.hh: rcu_head::gp_needed */
byte cb_ver[2];             /* the version the callback frees */
byte cb_queued;             /* cpu.hh: rcu_cpu::cb_queued */
byte cb_invoked;            /* cpu.hh: rcu_cpu::cb_invoked */

/* Ghost state: what the properties observe; no kernel state. */
byte held[MAXCPU];          /* the version a task's read section loaded, or NONE */
byte held_irq[MAXCPU];      /* the version read by an interrupt handler on an idle CPU */
bit updates_done;           /* the updater has published its last version */
byte last_tick;             /* the CPU that took the latest tick (liveness) */

#define GP_DONE(s) (gp_seq >= (s))  /* rcu.cc: gp_done() */
#define OWN_DYNTICKS(c) (sb_what[c] == SB_DYNTICKS -> sb_val[c] : dynticks[c])
#define HAS_WORK(c) ((c) == 0 && cb_invoked < cb_queued && GP_DONE(cb_gp[cb_invoked]))  /* rcu.cc: rcu_cpu_has_work() */
#define DONE (updates_done && cb_invoked == cb_queued && gp_seq >= gp_seq_needed)
#define OWED(mask, c) (BROKEN(QS_NO_BIT_CHECK) || ((mask) & BIT(c)) != 0)
#define KASSERT(e) assert(!CHECKING(ASSERTS) || (e))

/*
 * sb_drain(c): a locked instruction or a fence on CPU c writes its store
 * buffer first. (No branches: spin would copy the rest of the caller's
 * atomic step into each one. model/trail.py turns the SB line into words.)
 */
inline sb_drain(c) {
    printf("SB %d %d %d\n", c, sb_what[c], sb_val[c]);
    ptr = (sb_what[c] == SB_PTR -> sb_val[c] : ptr);
    dynticks[c] = (sb_what[c] == SB_DYNTICKS -> sb_val[c] : dynticks[c]);
    sb_what[c] = SB_EMPTY;
    sb_val[c] = 0
}

/* sb_store(c, what, v): a plain store (mov) waits in the store buffer. */
inline sb_store(c, what, v) {
    sb_drain(c);
    sb_what[c] = what;
    sb_val[c] = v
}

/* The store buffer reaches memory on its own, at any moment. */
proctype store_buffer(byte c) {
end:
    do
    :: atomic { sb_what[c] != SB_EMPTY -> sb_drain(c) }
    od
}

/* spinlock.hh: lock(): the cmpxchg that takes it is a locked instruction (use inside atomic). */
inline lock_acquire(c) {
    gp_lock == 0 -> sb_drain(c); gp_lock = c + 1
}
/* spinlock.hh: unlock(): stores stay in order, so all the holder stored is visible first. */
inline lock_release(c) {
    atomic { sb_drain(c); gp_lock = 0 }
}

/* rcu.cc: snap() */
inline snap(c, s) {
    if
    :: BROKEN(SNAP_NO_FENCE) -> skip
    :: else -> sb_drain(c)          /* the seq_cst fence: the caller's publish goes first */
    fi;
    if
    :: BROKEN(SNAP_ROUNDING) -> s = (gp_seq + 1) & ~1
    :: else -> s = (gp_seq + 3) & ~1
    fi;
    printf("EV %d snap(): gp_seq is %d, so wait for gp_seq >= %d\n", c, gp_seq, s)
}

/*
 * rcu.cc: start_gp_locked() and complete_gp_locked(), which call each
 * other, for the CPU that holds gp_lock: gp_call ! cpu, caller_quiescent,
 * start_first; then gp_return ? wake, where wake says that the updater
 * sleeping on that same CPU was woken (waitqueue.cc: wake_all()).
 */
chan gp_call = [0] of { byte, bit, bit };
chan gp_return = [0] of { bit };

proctype gp_machine() {
    byte c, mask, j;
    bit cq, start, wake;
end:
    do
    :: gp_call ? c, cq, start ->
       do
       :: start ->
          /* rcu.cc: start_gp_locked() */
          if
          :: !BROKEN(MASK_BEFORE_ODD) ->
             atomic { KASSERT(gp_seq % 2 == 0 && gp_seq + 2 < MAXSEQ);
                      gp_seq < MAXSEQ -> sb_drain(c); gp_seq++;     /* fetch_add: locked */
                      printf("EV %d start_gp_locked: gp_seq = %d, GP %d starts\n", c, gp_seq, (gp_seq + 1) / 2) }
          :: else -> skip
          fi;
          do
          :: j < ncpu ->
             atomic {
                 if
                 :: (j == c -> OWN_DYNTICKS(j) : dynticks[j]) -> mask = mask | BIT(j)
                 :: else -> printf("EV %d start_gp_locked: cpu%d is idle (dynticks even): not waited for\n", c, j)
                 fi;
                 j++
             }
          :: else -> j = 0; break
          od;
          if
          :: BROKEN(MASK_BEFORE_ODD) ->
             atomic { gp_seq < MAXSEQ -> sb_drain(c); gp_seq++;
                      printf("EV %d start_gp_locked: gp_seq = %d, GP %d starts\n", c, gp_seq, (gp_seq + 1) / 2) }
          :: else -> skip
          fi;
          atomic {
              if
              :: cq && (mask & BIT(c)) -> mask = mask & ~BIT(c)   /* the caller is quiescent: count_qs() */
              :: else -> skip
              fi;
              sb_drain(c);                  /* qs_pending.store(seq_cst) is an xchg */
              qs_pending = mask;
              printf("EV %d start_gp_locked: qs_pending = MASK(%d)\n", c, qs_pending);
              if
              :: mask == 0 -> start = 0     /* nobody to wait for: complete it at once */
              :: else -> mask = 0; break
              fi
          }
       :: !start ->
          /* rcu.cc: complete_gp_locked() */
          atomic {
              gp_seq < MAXSEQ -> sb_drain(c); gp_seq++;
              if
              :: gp_seq % 2 == 0 -> printf("EV %d complete_gp_locked: gp_seq = %d, GP %d is over\n", c, gp_seq, gp_seq / 2)
              :: else -> printf("EV %d complete_gp_locked: gp_seq = %d, odd: no GP had started\n", c, gp_seq)
              fi;
              if
              :: gp_waiter -> gp_waiter = 0;      /* waitqueue.cc: wake_all() */
                 if
                 :: c == 0 -> wake = 1
                 :: else -> ipi_pending[0] = 1; printf("EV %d wakes the updater: IPI to cpu0\n", c)
                 fi
              :: else -> skip
              fi;
              if
              :: gp_seq_needed > gp_seq && !BROKEN(NO_RESTART) -> start = 1
              :: else -> break
              fi
          }
       od;
       gp_return ! wake;
       c = 0; cq = 0; start = 0; wake = 0
    od
}

/* rcu.cc: request_gp() */
inline request_gp(c, s) {
    if
    :: GP_DONE(s) -> skip
    :: else ->
       atomic {
           lock_acquire(c);
           if
           :: s > gp_seq_needed -> gp_seq_needed = s
           :: else -> skip
           fi;
           printf("EV %d request_gp(%d): gp_seq_needed = %d\n", c, s, gp_seq_needed);
           start = (gp_seq % 2 == 0 && !GP_DONE(s))
       }
       if
       :: start -> start = 0; gp_call ! c, 0, 1; gp_return ? _
       :: else -> skip
       fi;
       lock_release(c)
    fi
}

/*
 * rcu.cc: rcu_note_qs(), in two parts. qs_report(c), inside the caller's
 * atomic step: the relaxed check of this CPU's bit and the fetch_and; it
 * sets qlast when this CPU cleared the last bit. qs_finish(c): that CPU
 * ends the GP, under the lock.
 */
inline qs_report(c) {
    if
    :: OWED(qs_pending, c) ->
       qold = qs_pending;
       sb_drain(c);                         /* fetch_and is locked */
       qs_pending = qs_pending & ~BIT(c);
       printf("EV %d rcu_note_qs: qs_pending MASK(%d) -> MASK(%d)\n", c, qold, qs_pending);
       qlast = (OWED(qold, c) && (qold & ~BIT(c)) == 0);
       qold = 0
    :: else -> skip
    fi
}
inline qs_finish(c) {
    if
    :: qlast -> qlast = 0;
       atomic { lock_acquire(c) };
       gp_call ! c, 1, 0;
       gp_return ? qlast;                   /* now: it woke the updater asleep on this CPU */
       atomic { sb_drain(c); gp_lock = 0;   /* lock_release */
                need_resched[c] = need_resched[c] | qlast; qlast = 0 }
    :: else -> skip
    fi
}
inline rcu_note_qs(c) {
    atomic { qs_report(c) };
    qs_finish(c)
}

/* sched.cc: cpu::schedule(): a task switch, a quiescent state. Inside an atomic step; then qs_finish. */
inline schedule_report(c) {
    KASSERT(preempt[c] == 0);
    need_resched[c] = 0;
    qs_report(c)
}

/* rcu.cc: rcu_irq_enter() */
inline rcu_irq_enter(c) {
    if
    :: (OWN_DYNTICKS(c) & 1) == 0 ->
       if
       :: BROKEN(IRQ_ENTER_PLAIN) -> sb_store(c, SB_DYNTICKS, 1);
          printf("EV %d rcu_irq_enter: dynticks odd, a plain store: it waits in cpu%d's store buffer\n", c, c)
       :: else -> sb_drain(c); dynticks[c] = 1;   /* fetch_add: a full fence */
          printf("EV %d rcu_irq_enter: dynticks odd (an interrupt on an idle CPU)\n", c)
       fi;
       irq_from_idle[c] = 1
    :: else -> skip
    fi
}

/* rcu.cc: rcu_irq_exit() */
inline rcu_irq_exit(c) {
    if
    :: irq_from_idle[c] -> irq_from_idle[c] = 0;
       sb_drain(c); dynticks[c] = 0;
       printf("EV %d rcu_irq_exit: dynticks even again\n", c)
    :: else -> skip
    fi
}

/* rcu.cc: rcu_idle_enter() */
inline rcu_idle_enter(c) {
    KASSERT(OWN_DYNTICKS(c) == 1);
    sb_drain(c); dynticks[c] = 0;
    printf("EV %d rcu_idle_enter: dynticks even; halts\n", c)
}

/* rcu.cc: rcu_idle_exit() */
inline rcu_idle_exit(c) {
    KASSERT(OWN_DYNTICKS(c) == 0);
    if
    :: BROKEN(IDLE_EXIT_PLAIN) -> sb_store(c, SB_DYNTICKS, 1);
       printf("EV %d rcu_idle_exit: dynticks odd, a plain store: it waits in cpu%d's store buffer\n", c, c)
    :: else -> sb_drain(c); dynticks[c] = 1;     /* fetch_add: a full fence */
       printf("EV %d rcu_idle_exit: dynticks odd\n", c)
    fi
}

/* free_version(c, v): version v goes back to the allocator, so nobody may still hold it. */
inline free_version(c, v) {
    printf("EV %d frees v%d\n", c, v);
    fj = 0;
    do
    :: fj < ncpu ->
       if
       :: CHECKING(SAFETY) && held[fj] == v ->
          printf("VIOLATION safety: cpu%d is still inside a read section that loaded v%d\n", fj, v);
          assert(false)
       :: CHECKING(IRQ) && held_irq[fj] == v ->
          printf("VIOLATION irq: an interrupt on idle cpu%d is still inside a read section that loaded v%d\n", fj, v);
          assert(false)
       :: else -> skip
       fi;
       fj++
    :: else -> fj = 0; break
    od
}

/* rcu.cc: rcu_do_callbacks() (only CPU 0 has callbacks: the updater's call_rcu) */
inline rcu_do_callbacks(c) {
    do
    :: atomic { HAS_WORK(c) ->
                printf("EV %d runs the callback for v%d (it needs gp_seq >= %d)\n", c, cb_ver[cb_invoked], cb_gp[cb_invoked]);
                free_version(c, cb_ver[cb_invoked]);
                cb_invoked++ }
    :: else -> break
    od
}

/* The CPUs: interrupts, read sections, the idle loop, the updater. */
#include "cpu.pml"

/* CHECK_LIVENESS: pan -a -N liveness2 (2 CPUs) or liveness3 (3 CPUs) */
ltl liveness2 { ([]<> (last_tick == 0) && []<> (last_tick == 1)) -> <> DONE }
ltl liveness3 { ([]<> (last_tick == 0) && []<> (last_tick == 1) && []<> (last_tick == 2)) -> <> DONE }

init {
    byte i;
    atomic {
        c_code {
            now.ncpu = model_env("MODEL_NCPU", 2);
            now.nupdates = model_env("MODEL_UPDATES", 2);
            now.variant = model_env("MODEL_VARIANT", 0);
            now.checks = model_env("MODEL_CHECK", 7);
        };
        assert(ncpu >= 2 && ncpu <= MAXCPU && nupdates >= 1 && nupdates <= 2);
        do
        :: i < MAXCPU -> held[i] = NONE; held_irq[i] = NONE; dynticks[i] = 1; i++
        :: else -> break
        od;
        if
        :: skip                                                /* no GP running */
        :: gp_seq = 1; gp_seq_needed = 2; qs_pending = BIT(ncpu) - 1;
           printf("NOTE At the start GP 1 runs, asked for by an earlier writer.\n")
        :: gp_seq = 1; gp_seq_needed = 4; qs_pending = BIT(ncpu) - 1;
           printf("NOTE At the start GP 1 runs, and earlier writers want GP 2 too.\n")
        fi;
        i = 0;
        do
        :: i < ncpu -> run cpu(i); run store_buffer(i); i++
        :: else -> break
        od;
        run gp_machine();
        i = 0
    }
}
