// kernel/kstat.cc: sys_kstat(what, arg): one number about the kernel, for
// tests and benchmarks (a Grace extension). The statistics are the kstat_id
// values in lib/abi.hh.
#include "proc.hh"

// sys_kstat(what, arg): see kstat_id in lib/abi.hh.
long sys_kstat(uint64_t what, uint64_t arg) {
    bool per_cpu = what == KSTAT_SCHEDULES || what == KSTAT_TICKS || what == KSTAT_IRQS;
    if (per_cpu && arg >= uint64_t(ncpu)) return -EINVAL;
    switch (what) {
    case KSTAT_FREE_PAGES: return long(pmem_free_pages());
    case KSTAT_SCHEDULES: return long(__atomic_load_n(&cpus[arg].schedule_count, __ATOMIC_RELAXED));
    case KSTAT_TICKS: return long(__atomic_load_n(&cpus[arg].ticks, __ATOMIC_RELAXED));
    case KSTAT_IRQS: return long(__atomic_load_n(&cpus[arg].irqs, __ATOMIC_RELAXED));
    case KSTAT_HZ: return kopts.hz;
    case KSTAT_RCU_GP: return long(rcu_completed_gp());
    case KSTAT_RCU_CB_PENDING: return long(rcu_get_stats().cb_pending);
    case KSTAT_RCU_CB_HIGH: return long(rcu_get_stats().cb_high_water);
    case KSTAT_RCU_CB_INVOKED: return long(rcu_get_stats().cb_invoked);
    case KSTAT_RCU_LONGEST_GP_NS: return long(rcu_get_stats().longest_gp_ns);
    case KSTAT_HEAP_BYTES: return long(kmalloc_bytes_in_use());
    case KSTAT_NPROCS: return proc_count();
    case KSTAT_PREEMPT_COUNT: return preempt_count();
    case KSTAT_RESERVE_PAGES: return long(pmem_reserve_pages());
    case KSTAT_NPROC_MAX: return NPROC;
    case KSTAT_USER_REFUSALS: return long(pmem_user_refusals());
    case KSTAT_LAST_PID: return proc_last_pid();
    default: return -EINVAL;
    }
}
