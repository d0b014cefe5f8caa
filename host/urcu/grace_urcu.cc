// host/urcu/grace_urcu.cc: libgrace-urcu-qsbr, liburcu's QSBR interface
// (urcu-qsbr.h) over Grace's RCU core and the host port: a registered
// thread is a CPU (host_cpu_attach), rcu_quiescent_state is the port's
// quiescent point, going offline is the CPU's extended quiescent state,
// and synchronize_rcu, call_rcu and rcu_barrier are the kernel's own.
#define GRACE_URCU_NO_API_MAP
#include "urcu-qsbr.h"
#include "port.hh"
#include "rcu.hh"
#include <cstdlib>
#include <mutex>
#include <new>

static_assert(sizeof(rcu_head) <= sizeof(grace_urcu_head::grace_record_) && alignof(rcu_head) <= alignof(void*)
                  && offsetof(grace_urcu_head, grace_record_) == 0,
              "grace_urcu_head must begin with room for kernel/rcu.hh's rcu_head");

namespace {
// busted_from_environment(): GRACE_URCU_BUSTED=1 sets the kernel's
// rcu_busted (grace periods skipped, a deliberately broken RCU), so that
// a test of this interface can show it catches one.
void busted_from_environment() {
    static std::once_flag once;
    std::call_once(once, [] {
        const char* b = getenv("GRACE_URCU_BUSTED");
        if (b && b[0] == '1') {
            rcu_busted = true;
            log_printf("grace-urcu: GRACE_URCU_BUSTED=1: grace periods are skipped (broken on purpose)");
        }
    });
}

rcu_head* grace_record(grace_urcu_head* h) { return reinterpret_cast<rcu_head*>(h->grace_record_); }

// run_callback(r): the Grace callback behind every call_rcu: the user's.
void run_callback(rcu_head* r) {
    grace_urcu_head* h = reinterpret_cast<grace_urcu_head*>(r);
    h->func(h);
}

// online_scope: an updater needs an online CPU. A registered thread that
// is offline comes online for the call; a thread that never registered
// is a CPU for the call (liburcu allows both).
class online_scope {
public:
    online_scope() : attached_(!host_cpu_is_attached()), onlined_(!attached_ && !host_cpu_is_online()) {
        busted_from_environment();
        if (attached_) host_cpu_attach();
        if (onlined_) host_cpu_online();
    }
    ~online_scope() {
        if (onlined_) host_cpu_offline();
        if (attached_) host_cpu_detach();
    }
    online_scope(const online_scope&) = delete;
    online_scope& operator=(const online_scope&) = delete;
private:
    bool attached_, onlined_;
};

// A defer_rcu request, freed by its own callback.
struct deferred {
    grace_urcu_head head;
    void (*fct)(void*);
    void* p;
};
void run_deferred(grace_urcu_head* h) {
    deferred* d = reinterpret_cast<deferred*>(h);
    d->fct(d->p);
    delete d;
}
}

extern "C" {

void grace_urcu_register_thread(void) {
    busted_from_environment();
    host_cpu_attach();
}
void grace_urcu_unregister_thread(void) { host_cpu_detach(); }
void grace_urcu_quiescent_state(void) { host_quiescent_state(); }
void grace_urcu_thread_offline(void) { host_cpu_offline(); }
void grace_urcu_thread_online(void) { host_cpu_online(); }
// rcu_read_ongoing(): as in liburcu's QSBR flavor, whether this thread is
// online: between two quiescent states an online thread is a reader.
int grace_urcu_read_ongoing(void) { return host_cpu_is_online(); }

void grace_urcu_synchronize_rcu(void) {
    online_scope s;
    synchronize_rcu();
}

void grace_urcu_call_rcu(grace_urcu_head* head, void (*func)(grace_urcu_head*)) {
    online_scope s;
    head->func = func;
    call_rcu(grace_record(head), run_callback);
}

void grace_urcu_barrier(void) {
    online_scope s;
    rcu_barrier();
}

// defer_rcu(fct, p): fct(p) after a grace period. liburcu batches these per
// thread; here each is one call_rcu (or, when no memory is left for its
// record, a synchronize_rcu and the call at once, as liburcu does when its
// queue is full).
void grace_urcu_defer_rcu(void (*fct)(void*), void* p) {
    deferred* d = new (std::nothrow) deferred{{}, fct, p};
    if (!d) {
        grace_urcu_synchronize_rcu();
        fct(p);
        return;
    }
    grace_urcu_call_rcu(&d->head, run_deferred);
}
int grace_urcu_defer_register_thread(void) { return 0; }
void grace_urcu_defer_unregister_thread(void) {}

void grace_urcu_read_lock(void) { rcu_read_lock(); }
void grace_urcu_read_unlock(void) { rcu_read_unlock(); }

}
