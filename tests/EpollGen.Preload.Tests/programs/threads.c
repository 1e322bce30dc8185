/*
 * Threads (epoll_wait(2) NOTES, epoll(7)): an ADD or MOD from another thread of a ready fd wakes a
 * thread blocked in epoll_wait, also on a set that was empty; a DEL from another thread does not
 * end the wait; with several threads blocked on one set, one LT-ready item wakes them all (the
 * harvester re-queues it and wakes the next), one ET edge wakes exactly one; waiters in different
 * sets that share an fd all wake.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

struct waiter {
    int ep;
    int timeout_ms;
    int result;
    uint64_t data;
    atomic_int done;
};

static void *wait_once(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event event = { 0 };
    w->result = epoll_wait(w->ep, &event, 1, w->timeout_ms);
    w->data = w->result > 0 ? event.data.u64 : 0;
    atomic_store(&w->done, 1);
    return NULL;
}

static void start(pthread_t *thread, struct waiter *w, int ep, int timeout_ms)
{
    memset(w, 0, sizeof *w);
    w->ep = ep;
    w->timeout_ms = timeout_ms;
    MUST(pthread_create(thread, NULL, wait_once, w) == 0);
}

static void finish(const char *label, pthread_t thread, struct waiter *w)
{
    MUST(pthread_join(thread, NULL) == 0);
    if (w->result > 0)
        printf("%s: %d data=0x%" PRIx64 "\n", label, w->result, w->data);
    else
        printf("%s: %d\n", label, w->result);
}

static void ctl_wakes(void)
{
    printf("-- a ctl from another thread wakes a blocked waiter\n");
    int e = eventfd(1, EFD_NONBLOCK);
    MUST(e >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    pthread_t thread;
    struct waiter w;

    int64_t begin = now_ms();
    start(&thread, &w, ep, 5000);
    sleep_ms(50);
    printf("waiting on an empty set, still blocked after 50ms: %s\n", yes_no(!atomic_load(&w.done)));
    ctl("ADD a ready eventfd data=1", ep, EPOLL_CTL_ADD, e, EPOLLIN, 1);
    finish("waiter", thread, &w);
    show_elapsed("woken by ADD", now_ms() - begin, 50);

    ctl("MOD events=0 data=2", ep, EPOLL_CTL_MOD, e, 0, 2);
    begin = now_ms();
    start(&thread, &w, ep, 5000);
    sleep_ms(50);
    printf("item not asking for IN, still blocked after 50ms: %s\n", yes_no(!atomic_load(&w.done)));
    ctl("MOD IN data=3", ep, EPOLL_CTL_MOD, e, EPOLLIN, 3);
    finish("waiter", thread, &w);
    show_elapsed("woken by MOD", now_ms() - begin, 50);

    ctl("MOD events=0 data=4", ep, EPOLL_CTL_MOD, e, 0, 4);
    start(&thread, &w, ep, 300);
    sleep_ms(50);
    ctl("DEL", ep, EPOLL_CTL_DEL, e, 0, 0);
    finish("waiter with timeout 300ms, DEL meanwhile", thread, &w);
    close(e);
    close(ep);
}

#define WAITERS 4

static void many_waiters(const char *label, uint32_t mode)
{
    printf("-- %d threads blocked on one set, one %s item becomes ready\n", WAITERS, label);
    int e = eventfd(0, EFD_NONBLOCK);
    MUST(e >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD eventfd", ep, EPOLL_CTL_ADD, e, EPOLLIN | mode, 0x40);
    pthread_t threads[WAITERS];
    struct waiter waiters[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        start(&threads[i], &waiters[i], ep, mode == EPOLLET ? 500 : 5000);
    sleep_ms(100);
    uint64_t one = 1;
    MUST(write(e, &one, sizeof one) == sizeof one);
    int woken = 0, timed_out = 0;
    for (int i = 0; i < WAITERS; i++) {
        MUST(pthread_join(threads[i], NULL) == 0);
        MUST(waiters[i].result >= 0);
        if (waiters[i].result == 1 && waiters[i].data == 0x40)
            woken++;
        else
            timed_out++;
    }
    printf("returned the event: %d, timed out: %d\n", woken, timed_out);
    close(e);
    close(ep);
}

static void one_waiter_per_set(void)
{
    printf("-- %d sets sharing one eventfd, a thread blocked on each\n", WAITERS);
    int e = eventfd(0, EFD_NONBLOCK);
    MUST(e >= 0);
    pthread_t threads[WAITERS];
    struct waiter waiters[WAITERS];
    int sets[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        MUST((sets[i] = epoll_create1(0)) >= 0);
        ctl_must(sets[i], EPOLL_CTL_ADD, e, EPOLLIN | EPOLLET, 0x50 + (uint64_t)i);
        start(&threads[i], &waiters[i], sets[i], 5000);
    }
    sleep_ms(100);
    uint64_t one = 1;
    MUST(write(e, &one, sizeof one) == sizeof one);
    char label[32];
    for (int i = 0; i < WAITERS; i++) {
        snprintf(label, sizeof label, "waiter on set %d", i);
        finish(label, threads[i], &waiters[i]);
        close(sets[i]);
    }
    close(e);
}

int main(void)
{
    transcript_start();
    ctl_wakes();
    many_waiters("LT", 0);
    many_waiters("ET", EPOLLET);
    one_waiter_per_set();
    return 0;
}
