/*
 * model/cpu.pml: the CPUs around rcu.cc in the model of the grace-period
 * machinery; model/rcu.pml includes it (and explains the whole model). An
 * interrupt (trap.cc), a task's read section (rcu.hh), the idle loop
 * (sched.cc), and the process `cpu`: the updater on CPU 0, then what every
 * CPU does until nothing is left to check.
 */

/*
 * trap.cc: trap_dispatch(): if `guard`, an interrupt arrives: a pending IPI,
 * else one of kind k. A tick that wakes an idle CPU runs a read section
 * of its own (a timer hook or a driver would). `steal` is set when the
 * broken IDLE_IRQ_SCHEDULES switches to a task from inside the interrupt.
 */
inline trap(c, guard, k) {
    atomic {
        guard ->
        if
        :: ipi_pending[c] -> ipi_pending[c] = 0; ikind = KIND_IPI
        :: else -> ikind = k
        fi;
        tq = (preempt[c] == 0);       /* preemptible: the interrupted code held no read section */
        if
        :: ikind == KIND_TICK && tq -> printf("EV %d tick\n", c)
        :: ikind == KIND_TICK && !tq -> printf("EV %d tick, inside a read section\n", c)
        :: ikind == KIND_IPI -> printf("EV %d IPI\n", c)
        :: ikind == KIND_WAKE -> printf("EV %d IPI: a task was woken for this CPU\n", c)
        fi;
        if
        :: ikind == KIND_TICK && CHECKING(LIVENESS) -> last_tick = c
        :: else -> skip
        fi;
        rcu_irq_enter(c);
        if
        :: ikind != KIND_TICK -> need_resched[c] = 1
        :: else -> skip
        fi;
        if
        :: !tq ->
           /* rcu.cc: rcu_tick(), inside a read section: hurry it along */
           if
           :: ikind == KIND_TICK && !BROKEN(TICK_NO_RESCHED) && (qs_pending & BIT(c)) ->
              need_resched[c] = 1;
              printf("EV %d rcu_tick: the GP waits for this CPU: need_resched\n", c)
           :: else -> skip
           fi
        :: tq && !irq_from_idle[c] ->
           /* rcu_tick() when quiescent, the IPI handler when preemptible: rcu_irq_enter stored nothing */
           qs_report(c);
           rest = qlast || need_resched[c] || c == 0
        :: else -> rest = 1
        fi
    }
    if
    :: !rest -> skip                  /* nothing more to do: one step was all */
    :: else ->
       /* from idle: rcu_tick() or the IPI handler reports the quiescent state now */
       if
       :: irq_from_idle[c] -> rcu_note_qs(c)
       :: else -> qs_finish(c)
       fi;
       if
       :: irq_from_idle[c] && ikind == KIND_TICK && c != 0 ->
          atomic { held_irq[c] = ptr;
                   printf("EV %d interrupt handler: rcu_read_lock, loads v%d\n", c, held_irq[c]) };
          atomic { printf("EV %d interrupt handler: rcu_read_unlock (drops v%d)\n", c, held_irq[c]);
                   held_irq[c] = NONE }
       :: else -> skip
       fi;
       atomic {
           rcu_irq_exit(c);
           /* An interrupt that woke the idle loop returns to it; otherwise it may reschedule. */
           if
           :: in_idle[c] && BROKEN(IDLE_IRQ_SCHEDULES) && c != 0 && need_resched[c] ->
              steal = 1; schedule_report(c)
           :: !in_idle[c] && need_resched[c] -> schedule_report(c)
           :: !in_idle[c] && !need_resched[c] && c == 0 -> cbs = 1   /* run ready callbacks */
           :: else -> skip
           fi
       }
       qs_finish(c);
       if
       :: cbs -> cbs = 0; rcu_do_callbacks(c)
       :: else -> skip
       fi
    fi;
    ikind = 0; tq = 0; rest = 0
}

/* Interrupts are on here: one may arrive, and an IPI that is pending does. */
inline irq_point(c) {
    if
    :: trap(c, true, KIND_TICK)
    :: !ipi_pending[c]
    fi
}

/* rcu.hh: rcu_read_lock() */
inline rcu_read_lock(c) {
    if
    :: BROKEN(READ_LOCK_FLAG) -> preempt[c] = 1
    :: else -> preempt[c]++
    fi
}

/* rcu.hh: rcu_read_unlock() and preempt.hh: preempt_enable(), then sched.cc: preempt_schedule() */
inline rcu_read_unlock(c) {
    KASSERT(preempt[c] > 0);          /* rcu.cc: rcu_read_unlock_underflow() */
    if
    :: BROKEN(READ_LOCK_FLAG) -> preempt[c] = 0
    :: else -> preempt[c]--
    fi;
    if
    :: preempt[c] == 0 && need_resched[c] -> schedule_report(c)
    :: else -> skip
    fi
}

/* A task's read section, maybe with a nested one inside it; it starts only if `go`. */
inline task_reader(c, go) {
    atomic { go -> rcu_read_lock(c); held[c] = ptr;
             printf("EV %d rcu_read_lock, loads v%d\n", c, held[c]) };
    irq_point(c);
    if
    :: atomic { printf("EV %d nested rcu_read_lock, rcu_read_unlock\n", c);
                rcu_read_lock(c); rcu_read_unlock(c) };
       qs_finish(c)
    :: skip
    fi;
    atomic { printf("EV %d rcu_read_unlock (drops v%d)\n", c, held[c]);
             held[c] = NONE; rcu_read_unlock(c) };
    qs_finish(c)
}

/* How the updater frees the version it replaced (mode). */
#define CALL_RCU 1
#define SYNCHRONIZE_RCU 2
#define SYNCHRONIZE_RCU_EXPEDITED 3

/* rcu.cc: synchronize_rcu_expedited(), after its request_gp: IPI the CPUs the GP waits for */
inline expedite(c, s) {
    prodded = NONE;
    do
    :: GP_DONE(s) -> break
    :: else ->
       rcu_note_qs(c);
       /* IPI each CPU the running GP waits for, once per GP (apic.cc: lapic_send_ipi()) */
       atomic {
           if
           :: gp_seq != prodded ->
              prodded = gp_seq;
              mask = qs_pending & ~BIT(c);
              printf("EV %d synchronize_rcu_expedited: IPIs to MASK(%d)\n", c, mask);
              do
              :: j < ncpu ->
                 if
                 :: mask & BIT(j) -> ipi_pending[j] = 1
                 :: else -> skip
                 fi;
                 j++
              :: else -> j = 0; break
              od;
              mask = 0
           :: else -> skip
           fi
       }
       irq_point(c)                          /* cpu_relax(), interrupts on */
    od;
    prodded = 0
}

/*
 * A CPU. CPU 0 first runs the updater; then every CPU takes ticks, sleeps
 * in the idle loop and (CPU 1) runs read sections, until nothing is left
 * to check. The idle loop is one block of code that the main loop and the
 * sleeping updater both go to (`sleeping` says which one returns).
 */
proctype cpu(byte c) {
    byte u, s, mode, prodded, mask, j;  /* the updater */
    byte qold, fj, ikind;               /* rcu_note_qs, free_version, trap */
    bit start, qlast, tq, rest, cbs, steal, sleeping;   /* request_gp, rcu_note_qs, trap, idle */

    if
    :: c == 0 -> u = 1
    :: else -> goto work
    fi;
update:
    /* The updater: publish version u and free version u - 1. */
    irq_point(c);
    atomic { sb_store(c, SB_PTR, u);     /* rcu.hh: rcu_ptr::publish(), a plain mov */
             printf("EV %d publishes v%d (it waits in cpu%d's store buffer)\n", c, u, c) };
    if
    :: atomic { mode = CALL_RCU;          /* rcu.cc: call_rcu() */
                printf("EV %d call_rcu() to free v%d\n", c, u - 1);
                snap(c, s);
                cb_gp[cb_queued] = s; cb_ver[cb_queued] = u - 1; cb_queued++ }
    :: atomic { mode = SYNCHRONIZE_RCU;   /* rcu.cc: synchronize_rcu() */
                printf("EV %d synchronize_rcu(), then free v%d\n", c, u - 1);
                snap(c, s) }
    :: atomic { mode = SYNCHRONIZE_RCU_EXPEDITED;   /* rcu.cc: synchronize_rcu_expedited() */
                printf("EV %d synchronize_rcu_expedited(), then free v%d\n", c, u - 1);
                snap(c, s) }
    fi;
    irq_point(c);
    request_gp(c, s);
    if
    :: mode == CALL_RCU ->
       /* a preemptible caller runs this CPU's ready callbacks */
       if
       :: atomic { HAS_WORK(c) -> s = 0 }; rcu_do_callbacks(c)
       :: else -> s = 0
       fi
    :: mode == SYNCHRONIZE_RCU ->
       rcu_note_qs(c);
       /* waitqueue.hh: wait_until(gp_wq, gp_done(s)) */
       do
       :: gp_waiter = 1;                     /* waitqueue.cc: wait_prepare() */
          if
          :: atomic { GP_DONE(s) -> gp_waiter = 0 }; break
          :: else ->
             atomic { schedule_report(c) };  /* sched.cc: schedule_blocked() */
             qs_finish(c);
             if
             :: gp_waiter -> printf("EV %d the updater sleeps\n", c); sleeping = 1; goto idle
             :: else -> skip                 /* woken meanwhile: it stays runnable */
             fi
          fi;
woken:    skip
       od;
       atomic { printf("EV %d synchronize_rcu returns\n", c); s = 0; free_version(c, u - 1) }
    :: mode == SYNCHRONIZE_RCU_EXPEDITED ->
       expedite(c, s);
       atomic { printf("EV %d synchronize_rcu_expedited returns\n", c); s = 0; free_version(c, u - 1) }
    fi;
    mode = 0;
    u++;
    if
    :: u <= nupdates -> goto update
    :: else -> atomic { u = 0; updates_done = 1; printf("EV %d the updater is done\n", c) }
    fi;

work:
    /* What the CPU does from now on, until nothing is left to check. */
    do
    :: DONE -> goto stop
    :: trap(c, !DONE, KIND_TICK)
    :: atomic { !DONE && c != 2 -> printf("EV %d the task sleeps\n", c); schedule_report(c) };
       qs_finish(c);
       goto idle
    :: task_reader(c, c != 0 && c != 2 && !DONE)
    od;

idle:
    /* sched.cc: idle_loop(), until a task is woken for this CPU */
    do
    :: atomic { need_resched[c] -> schedule_report(c) }; qs_finish(c); break
    :: atomic { !need_resched[c] -> qs_report(c) };
       qs_finish(c);
       if
       :: c == 0 && HAS_WORK(c) -> rcu_do_callbacks(c)     /* rcu.cc: rcu_cpu_has_work() */
       :: else ->
          atomic { in_idle[c] = 1; rcu_idle_enter(c) };
          /* sti; hlt: sleep until an interrupt (a pending IPI, a tick, a wakeup) */
          if
          :: ikind = KIND_TICK
          :: c != 0 -> ikind = KIND_WAKE
          fi;
          trap(c, true, ikind);
          if
          :: steal ->
             /* BROKEN(IDLE_IRQ_SCHEDULES): the woken task runs, and the CPU still counts as idle */
             atomic { steal = 0; held[c] = ptr;
                      printf("EV %d the woken task runs inside the interrupt: rcu_read_lock, loads v%d\n", c, held[c]) };
             atomic { printf("EV %d rcu_read_unlock (drops v%d)\n", c, held[c]); held[c] = NONE;
                      schedule_report(c) };    /* it sleeps: back to the idle task, after its hlt */
             qs_finish(c)
          :: else -> skip
          fi;
          atomic { rcu_idle_exit(c); in_idle[c] = 0 }
       fi
    od;
    if
    :: sleeping -> sleeping = 0; goto woken
    :: else -> goto work
    fi;
stop:
    skip
}
