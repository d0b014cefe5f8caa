/* host/tests/urcu_callbacks.c: a program written to liburcu's urcu-qsbr
 * interface alone, run on Grace's RCU through host/urcu/urcu-qsbr.h:
 * call_rcu, defer_rcu and rcu_barrier.
 *
 * 1. A reader holds a node inside rcu_read_lock while the writer replaces
 *    it and hands it to call_rcu: the callback must not run (free it)
 *    while the reader is inside; the reader keeps reading it.
 * 2. Two writers replace a shared node and free the old one after a grace
 *    period, with call_rcu (most) or defer_rcu (every fourth); two readers
 *    check that every node they find is whole and live. After the threads
 *    are gone, rcu_barrier (called from a thread that never registered)
 *    must have run every callback: exactly as many frees as replacements,
 *    the last callbacks being slow ones that count themselves once done.
 * With GRACE_URCU_BUSTED=1 (no grace periods) call_rcu frees at once and
 * part 1 reads freed memory, which AddressSanitizer must report
 * (host/tests/run.py checks it). Exit status 0: every check passed. */
#include <urcu-qsbr.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define LIVE 0x11fe11feL
#define HOLD_YIELDS 2000
#define WRITES 1500
#define SLOW 50

struct node {
    long magic;
    long value;
    long negated;
    struct rcu_head rcu;
};

static struct node *shared;
static long replaced, freed, writers_done, failures;
static int phase;

static struct node *new_node(long v)
{
    struct node *n = malloc(sizeof(*n));
    if (!n) abort();
    n->magic = LIVE;
    n->value = v;
    n->negated = -v;
    return n;
}

static void fail(const char *what, long n)
{
    fprintf(stderr, "urcu_callbacks: FAIL: %s (%ld)\n", what, n);
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

static void free_node(struct node *n)
{
    n->magic = 0;
    free(n);
    __atomic_fetch_add(&freed, 1, __ATOMIC_RELAXED);
}

static void free_node_rcu(struct rcu_head *head)
{
    free_node(caa_container_of(head, struct node, rcu));
}

static void free_node_deferred(void *p)
{
    free_node(p);
}

/* A slow callback: it spins, then frees and counts. */
static void slow_free_rcu(struct rcu_head *head)
{
    volatile long spin = 0;
    for (long k = 0; k < 200000; k++) spin += k;
    free_node_rcu(head);
}

/* Part 1: the reader that holds its node. */
static void *holding_reader(void *arg)
{
    long freed_before = (long)arg;
    rcu_register_thread();
    rcu_read_lock();
    struct node *p = rcu_dereference(shared);
    __atomic_store_n(&phase, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 2) sched_yield();
    for (int k = 0; k < HOLD_YIELDS; k++) {
        long magic = __atomic_load_n(&p->magic, __ATOMIC_RELAXED);
        if (__atomic_load_n(&freed, __ATOMIC_ACQUIRE) != freed_before) {
            magic = __atomic_load_n(&p->magic, __ATOMIC_RELAXED);
            fail("a callback freed a node a reader inside rcu_read_lock still held; magic now", magic);
            break;
        }
        if (magic != LIVE) fail("the held node changed", magic);
        sched_yield();
    }
    rcu_read_unlock();
    rcu_quiescent_state();
    rcu_unregister_thread();
    return NULL;
}

static void part1(void)
{
    pthread_t t;
    long freed_before = __atomic_load_n(&freed, __ATOMIC_ACQUIRE);
    rcu_register_thread();
    pthread_create(&t, NULL, holding_reader, (void *)freed_before);
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 1) rcu_quiescent_state();
    struct node *old = rcu_xchg_pointer(&shared, new_node(-2));
    __atomic_fetch_add(&replaced, 1, __ATOMIC_RELAXED);
    call_rcu(&old->rcu, free_node_rcu);
    __atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
    while (__atomic_load_n(&freed, __ATOMIC_ACQUIRE) == freed_before) {
        rcu_quiescent_state();          /* runs this thread's callback once it is ready */
        sched_yield();
    }
    rcu_unregister_thread();
    pthread_join(t, NULL);
}

/* Part 2: writers and readers. */
static void *writer(void *arg)
{
    long id = (long)arg;
    /* Before rcu_register_thread: liburcu's defer registration may block
     * on a mutex held across a grace period, which an online QSBR thread
     * must never do. */
    rcu_defer_register_thread();
    rcu_register_thread();
    for (long k = 0; k < WRITES; k++) {
        struct node *old = rcu_xchg_pointer(&shared, new_node(id * WRITES + k));
        __atomic_fetch_add(&replaced, 1, __ATOMIC_RELAXED);
        if (k % 4 == 3) defer_rcu(free_node_deferred, old);
        else if (k >= WRITES - SLOW) call_rcu(&old->rcu, slow_free_rcu);
        else call_rcu(&old->rcu, free_node_rcu);
        rcu_quiescent_state();
    }
    __atomic_fetch_add(&writers_done, 1, __ATOMIC_RELEASE);
    rcu_unregister_thread();
    rcu_defer_unregister_thread();
    return NULL;
}

static void *reader(void *arg)
{
    long n = 0;
    (void)arg;
    rcu_register_thread();
    while (__atomic_load_n(&writers_done, __ATOMIC_ACQUIRE) < 2) {
        rcu_read_lock();
        struct node *p = rcu_dereference(shared);
        if (p->magic != LIVE || p->negated != -p->value) fail("a torn or freed node", p->value);
        rcu_read_unlock();
        if (++n % 16 == 0) rcu_quiescent_state();
    }
    rcu_unregister_thread();
    return NULL;
}

int main(void)
{
    pthread_t t[4];
    rcu_assign_pointer(shared, new_node(-1));
    part1();
    for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, writer, (void *)i);
    for (int i = 2; i < 4; i++) pthread_create(&t[i], NULL, reader, NULL);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    rcu_barrier();
    long r = __atomic_load_n(&replaced, __ATOMIC_RELAXED), f = __atomic_load_n(&freed, __ATOMIC_RELAXED);
    if (f != r) fail("callbacks not finished when rcu_barrier returned", r - f);
    free(rcu_xchg_pointer(&shared, NULL));
    printf("urcu_callbacks: %ld replaced, %ld freed: %s\n", r, f, failures ? "FAIL" : "PASS");
    return failures != 0;
}
