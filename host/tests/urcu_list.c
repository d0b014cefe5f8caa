/* host/tests/urcu_list.c: a program written to liburcu's urcu-qsbr
 * interface alone, run on Grace's RCU through host/urcu/urcu-qsbr.h: the
 * textbook RCU list. Readers walk a singly linked list inside
 * rcu_read_lock, following pointers with rcu_dereference; one writer
 * removes nodes (one rcu_assign_pointer unlinks a node) and frees them with
 * call_rcu, and inserts new ones at the head (filled in first, published
 * with rcu_assign_pointer). Every node a reader reaches must be live, and
 * every walk must end (a freed node's `next` would lead anywhere). Readers
 * go offline between batches of walks, as a thread that blocks would. The
 * writer goes on until OVERLAPS walks each saw a change complete, so a
 * broken RCU is caught however the host schedules the threads.
 * With GRACE_URCU_BUSTED=1 (no grace periods) readers walk into freed
 * nodes, which AddressSanitizer must report (host/tests/run.py checks it).
 * Exit status 0: every check passed. */
#include <urcu-qsbr.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define LIVE 0x715e715eL
#define NODES 64
#define CHANGES 6000             /* at least, and until OVERLAPS walks each saw a change */
#define OVERLAPS 2000

struct node {
    long magic;
    long key;
    struct node *next;
    struct rcu_head rcu;
};

static struct node *head;
static long changes, changes_done, overlaps, walks, failures, freed, made;

static void fail(const char *what, long n)
{
    fprintf(stderr, "urcu_list: FAIL: %s (%ld)\n", what, n);
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
}

static struct node *new_node(long key)
{
    struct node *n = malloc(sizeof(*n));
    if (!n) abort();
    n->magic = LIVE;
    n->key = key;
    n->next = NULL;
    made++;
    return n;
}

static void free_node(struct rcu_head *h)
{
    struct node *n = caa_container_of(h, struct node, rcu);
    n->magic = 0;
    n->next = (struct node *)0x6b6b6b6b6b6b6b6bUL;   /* a walk past a freed node goes astray */
    free(n);
    __atomic_fetch_add(&freed, 1, __ATOMIC_RELAXED);
}

static void *reader(void *arg)
{
    (void)arg;
    rcu_register_thread();
    while (!__atomic_load_n(&changes_done, __ATOMIC_ACQUIRE)) {
        long seen = 0, before = __atomic_load_n(&changes, __ATOMIC_RELAXED);
        rcu_read_lock();
        for (struct node *n = rcu_dereference(head); n; n = rcu_dereference(n->next)) {
            if (n->magic != LIVE) fail("a walk reached a node that is not live", n->key);
            if (++seen > 4 * NODES) {
                fail("a walk did not end", seen);
                break;
            }
        }
        rcu_read_unlock();
        if (__atomic_load_n(&changes, __ATOMIC_RELAXED) > before)
            __atomic_fetch_add(&overlaps, 1, __ATOMIC_RELAXED);
        rcu_quiescent_state();
        if (__atomic_add_fetch(&walks, 1, __ATOMIC_RELAXED) % 64 == 0) {
            rcu_thread_offline();
            rcu_thread_online();
        }
    }
    rcu_unregister_thread();
    return NULL;
}

/* The writer: remove the node after a pseudo-random position, insert a
 * new one at the head. */
static void *writer(void *arg)
{
    unsigned long x = 88172645463325252UL;
    (void)arg;
    rcu_register_thread();
    for (long k = 0; k < CHANGES || __atomic_load_n(&overlaps, __ATOMIC_RELAXED) < OVERLAPS; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        struct node *prev = head;
        for (long i = (long)(x % (NODES - 2)); i > 0 && prev->next && prev->next->next; i--) prev = prev->next;
        struct node *victim = prev->next;
        if (victim) {
            rcu_assign_pointer(prev->next, victim->next);
            call_rcu(&victim->rcu, free_node);
        }
        struct node *n = new_node(NODES + k);
        n->next = head;
        rcu_assign_pointer(head, n);
        __atomic_fetch_add(&changes, 1, __ATOMIC_RELAXED);
        rcu_quiescent_state();
    }
    __atomic_store_n(&changes_done, 1, __ATOMIC_RELEASE);
    rcu_unregister_thread();
    return NULL;
}

int main(void)
{
    pthread_t r[2], w;
    for (long k = 0; k < NODES; k++) {
        struct node *n = new_node(k);
        n->next = head;
        head = n;
    }
    for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, reader, NULL);
    pthread_create(&w, NULL, writer, NULL);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);
    rcu_barrier();
    long left = 0;
    for (struct node *n = head, *next; n; n = next, left++) {
        next = n->next;
        free(n);
    }
    if (freed + left != made) fail("nodes freed by callbacks plus nodes left, against nodes made", made);
    printf("urcu_list: %ld nodes made, %ld freed by call_rcu: %s\n", made, freed, failures ? "FAIL" : "PASS");
    return failures != 0;
}
