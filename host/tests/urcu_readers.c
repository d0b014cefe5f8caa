/* host/tests/urcu_readers.c: a program written to liburcu's urcu-qsbr
 * interface alone (it would build against liburcu with -lurcu-qsbr), run
 * on Grace's RCU through host/urcu/urcu-qsbr.h.
 *
 * 1. A reader holds a configuration inside rcu_read_lock while the writer
 *    replaces it and calls synchronize_rcu: synchronize_rcu must not
 *    return while the reader is inside (the reader keeps reading the old
 *    configuration and counts; the writer frees it after synchronize_rcu).
 * 2. Two readers and a writer: the writer replaces the configuration with
 *    rcu_xchg_pointer, waits with synchronize_rcu, poisons and frees the
 *    old one; readers (going offline now and then) must only ever see
 *    whole, live configurations.
 * With GRACE_URCU_BUSTED=1 the library skips grace periods: part 1 then
 * reads freed memory, which AddressSanitizer must report (host/tests/run.py
 * checks it). Exit status 0: every check passed. */
#include <urcu-qsbr.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#define LIVE 0x600dcafeL
#define HOLD_YIELDS 2000
#define WRITES 2000

struct config {
    long magic;
    long gen;
    long twice_gen;
};

static struct config *current_config;
static int phase, writer_done, writers_finished;
static long failures;

static struct config *new_config(long gen)
{
    struct config *c = malloc(sizeof(*c));
    if (!c) abort();
    c->magic = LIVE;
    c->gen = gen;
    c->twice_gen = 2 * gen;
    return c;
}

static void fail(const char *what, long n)
{
    fprintf(stderr, "urcu_readers: FAIL: %s (%ld)\n", what, n);
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

static void wait_phase(int p)
{
    while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != p) sched_yield();
}

/* Part 1: the reader that holds its configuration. */
static void *holding_reader(void *arg)
{
    (void)arg;
    rcu_register_thread();
    rcu_read_lock();
    struct config *c = rcu_dereference(current_config);
    __atomic_store_n(&phase, 1, __ATOMIC_RELEASE);
    wait_phase(2);
    for (int k = 0; k < HOLD_YIELDS; k++) {
        long magic = __atomic_load_n(&c->magic, __ATOMIC_RELAXED);
        if (__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE)) {
            magic = __atomic_load_n(&c->magic, __ATOMIC_RELAXED);
            fail("synchronize_rcu returned while a reader was inside; magic now", magic);
            break;
        }
        if (magic != LIVE) fail("the held configuration changed", magic);
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
    rcu_register_thread();
    rcu_assign_pointer(current_config, new_config(0));
    pthread_create(&t, NULL, holding_reader, NULL);
    rcu_thread_offline();
    wait_phase(1);
    rcu_thread_online();
    struct config *old = rcu_xchg_pointer(&current_config, new_config(1));
    __atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
    synchronize_rcu();
    old->magic = 0;
    free(old);
    __atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
    rcu_thread_offline();
    pthread_join(t, NULL);
    rcu_unregister_thread();
}

/* Part 2: readers and a writer. */
static void *reader(void *arg)
{
    long n = 0;
    (void)arg;
    rcu_register_thread();
    while (!__atomic_load_n(&writers_finished, __ATOMIC_ACQUIRE)) {
        rcu_read_lock();
        if (!rcu_read_ongoing()) fail("rcu_read_ongoing() is false inside rcu_read_lock", n);
        struct config *c = rcu_dereference(current_config);
        if (c->magic != LIVE || c->twice_gen != 2 * c->gen) fail("a torn or freed configuration", c->gen);
        rcu_read_unlock();
        if (++n % 16 == 0) rcu_quiescent_state();
        if (n % 1024 == 0) {
            rcu_thread_offline();
            if (rcu_read_ongoing()) fail("rcu_read_ongoing() is true while offline", n);
            sched_yield();
            rcu_thread_online();
        }
    }
    rcu_unregister_thread();
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    rcu_register_thread();
    for (long gen = 2; gen < 2 + WRITES; gen++) {
        struct config *old = rcu_xchg_pointer(&current_config, new_config(gen));
        synchronize_rcu();
        old->magic = 0;
        free(old);
        rcu_quiescent_state();
    }
    __atomic_store_n(&writers_finished, 1, __ATOMIC_RELEASE);
    rcu_unregister_thread();
    return NULL;
}

static void part2(void)
{
    pthread_t r[2], w;
    for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, reader, NULL);
    pthread_create(&w, NULL, writer, NULL);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);
    synchronize_rcu();                  /* from a thread that is not registered */
    free(rcu_xchg_pointer(&current_config, NULL));
}

int main(void)
{
    part1();
    part2();
    printf("urcu_readers: %s\n", failures ? "FAIL" : "PASS");
    return failures != 0;
}
