/*
 * EPOLLEXCLUSIVE (epoll_ctl(2) EINVAL list, fs/eventpoll.c): allowed with ADD only, together with
 * IN, OUT, ERR, HUP, WAKEUP and ET; rejected with MOD (with or without the flag in the new mask,
 * once the item was added exclusive), with ONESHOT, RDHUP or PRI, and when the target is an epoll
 * fd. An exclusive item still reports like any other; a wake-up reaches at least one of several sets
 * that share the fd exclusively.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>

static void rules(void)
{
    printf("-- which ADDs and MODs accept EXCLUSIVE\n");
    int e = eventfd(0, EFD_NONBLOCK);
    MUST(e >= 0);
    int ep = epoll_create1(0), other = epoll_create1(0);
    MUST(ep >= 0 && other >= 0);
    ctl("ADD IN|EXCLUSIVE|ONESHOT", ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 1);
    ctl("ADD IN|EXCLUSIVE|RDHUP", ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP, 1);
    ctl("ADD IN|EXCLUSIVE|PRI", ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE | EPOLLPRI, 1);
    ctl("ADD IN|EXCLUSIVE|RDNORM", ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDNORM, 1);
    ctl("ADD epoll fd IN|EXCLUSIVE", ep, EPOLL_CTL_ADD, other, EPOLLIN | EPOLLEXCLUSIVE, 1);
    ctl("MOD of a never-added fd with EXCLUSIVE", ep, EPOLL_CTL_MOD, e, EPOLLIN | EPOLLEXCLUSIVE, 1);
    ctl("ADD IN|OUT|ERR|HUP|ET|EXCLUSIVE data=2", ep, EPOLL_CTL_ADD, e,
        EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLET | EPOLLEXCLUSIVE, 2);
    ctl("ADD again", ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE, 2);
    ctl("MOD IN|EXCLUSIVE", ep, EPOLL_CTL_MOD, e, EPOLLIN | EPOLLEXCLUSIVE, 3);
    ctl("MOD IN, no EXCLUSIVE", ep, EPOLL_CTL_MOD, e, EPOLLIN, 3);
    wait_show("reports like any item (ET, writable)", ep, 8, 0);
    ctl("DEL", ep, EPOLL_CTL_DEL, e, 0, 0);
    ctl("ADD IN data=4 (not exclusive)", ep, EPOLL_CTL_ADD, e, EPOLLIN, 4);
    ctl("MOD IN|EXCLUSIVE of a non-exclusive item", ep, EPOLL_CTL_MOD, e, EPOLLIN | EPOLLEXCLUSIVE, 5);
    ctl("MOD OUT", ep, EPOLL_CTL_MOD, e, EPOLLOUT, 6);
    wait_show("MOD took", ep, 8, 0);
    ctl("DEL", ep, EPOLL_CTL_DEL, e, 0, 0);
    ctl("ADD OUT|EXCLUSIVE data=7", ep, EPOLL_CTL_ADD, e, EPOLLOUT | EPOLLEXCLUSIVE, 7);
    wait_show("exclusive, level-triggered", ep, 8, 0);
    wait_show("again", ep, 8, 0);
    close(e);
    close(ep);
    close(other);
}

#define WAITERS 3

struct waiter {
    int ep;
    int result;
};

static void *wait_once(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event event;
    w->result = epoll_wait(w->ep, &event, 1, 500);
    return NULL;
}

static void shared(void)
{
    printf("-- one eventfd, exclusive in three sets, a thread blocked on each\n");
    int e = eventfd(0, EFD_NONBLOCK);
    MUST(e >= 0);
    struct waiter waiters[WAITERS];
    pthread_t threads[WAITERS];
    for (int i = 0; i < WAITERS; i++) {
        MUST((waiters[i].ep = epoll_create1(0)) >= 0);
        ctl("ADD IN|EXCLUSIVE", waiters[i].ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLEXCLUSIVE, (uint64_t)i);
        MUST(pthread_create(&threads[i], NULL, wait_once, &waiters[i]) == 0);
    }
    sleep_ms(50);
    uint64_t one = 1;
    MUST(write(e, &one, sizeof one) == sizeof one);
    int woken = 0;
    for (int i = 0; i < WAITERS; i++) {
        MUST(pthread_join(threads[i], NULL) == 0);
        MUST(waiters[i].result >= 0);
        woken += waiters[i].result;
        close(waiters[i].ep);
    }
    printf("at least one set reported the write: %s\n", yes_no(woken >= 1));
    close(e);
}

int main(void)
{
    transcript_start();
    rules();
    shared();
    return 0;
}
