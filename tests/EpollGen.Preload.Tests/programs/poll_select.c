/*
 * poll(2), ppoll(2) and select(2) on an epoll fd (epoll(7): "the epoll file descriptor itself is
 * pollable"): readable (POLLIN|POLLRDNORM, never POLLOUT) exactly while the set has an item that is
 * ready when re-checked; asking does not consume anything, so an ET event is still delivered by the
 * next epoll_wait, and once that wait took it the epoll fd is no longer readable even though the
 * eventfd still is; a poll or select blocked on the epoll fd wakes when an item becomes ready.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/select.h>

static void show_poll(const char *label, int fd, short events, int timeout)
{
    struct pollfd p = { .fd = fd, .events = events };
    errno = 0;
    int n = poll(&p, 1, timeout);
    if (n < 0)
        printf("%s: -1 %s\n", label, errno_name(errno));
    else
        printf("%s: %d revents=0x%x\n", label, n, (unsigned)p.revents);
}

static void show_select(const char *label, int fd)
{
    fd_set readable, writable;
    FD_ZERO(&readable);
    FD_ZERO(&writable);
    FD_SET(fd, &readable);
    FD_SET(fd, &writable);
    struct timeval zero = { 0, 0 };
    int n = select(fd + 1, &readable, &writable, NULL, &zero);
    printf("%s: %d readable %s writable %s\n", label, n, yes_no(FD_ISSET(fd, &readable)), yes_no(FD_ISSET(fd, &writable)));
}

static int efd;

static void *write_later(void *arg)
{
    (void)arg;
    sleep_ms(50);
    uint64_t one = 1;
    MUST(write(efd, &one, sizeof one) == sizeof one);
    return NULL;
}

int main(void)
{
    transcript_start();
    MUST((efd = eventfd(0, EFD_NONBLOCK)) >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    const short all = POLLIN | POLLOUT | POLLPRI | POLLRDNORM | POLLWRNORM | POLLRDHUP;

    printf("-- empty set\n");
    show_poll("poll IN|OUT|PRI|RDNORM|WRNORM|RDHUP", ep, all, 0);
    show_select("select", ep);

    printf("-- an item registered, not ready\n");
    ctl("ADD eventfd IN|ET data=1", ep, EPOLL_CTL_ADD, efd, EPOLLIN | EPOLLET, 1);
    show_poll("poll all", ep, all, 0);

    printf("-- the item ready\n");
    uint64_t one = 1, count;
    MUST(write(efd, &one, sizeof one) == sizeof one);
    show_poll("poll all", ep, all, 0);
    show_poll("poll IN", ep, POLLIN, 0);
    show_poll("poll OUT", ep, POLLOUT, 0);
    show_poll("poll again, nothing consumed", ep, POLLIN, 0);
    show_select("select", ep);
    struct timespec zero = { 0, 0 };
    struct pollfd p = { .fd = ep, .events = POLLIN };
    int polled = ppoll(&p, 1, &zero, NULL);
    printf("ppoll IN: %d revents=0x%x\n", polled, (unsigned)p.revents);
    wait_show("the ET event is still delivered", ep, 8, 0);
    show_poll("poll after the ET event was taken", ep, POLLIN, 0);

    printf("-- ready, then read before anyone looked\n");
    MUST(write(efd, &one, sizeof one) == sizeof one);
    MUST(read(efd, &count, sizeof count) == sizeof count);
    show_poll("poll", ep, POLLIN, 0);
    show_select("select", ep);

    printf("-- a blocked poll wakes\n");
    ctl("MOD IN (LT) data=2", ep, EPOLL_CTL_MOD, efd, EPOLLIN, 2);
    pthread_t writer;
    int64_t start = now_ms();
    MUST(pthread_create(&writer, NULL, write_later, NULL) == 0);
    show_poll("poll IN, timeout 5000ms, write after 50ms", ep, POLLIN, 5000);
    show_elapsed("woken", now_ms() - start, 50);
    MUST(pthread_join(writer, NULL) == 0);
    wait_show("epoll_wait", ep, 8, 0);
    MUST(read(efd, &count, sizeof count) == sizeof count);

    printf("-- a blocked select wakes\n");
    start = now_ms();
    MUST(pthread_create(&writer, NULL, write_later, NULL) == 0);
    fd_set readable;
    FD_ZERO(&readable);
    FD_SET(ep, &readable);
    struct timeval five = { 5, 0 };
    int n = select(ep + 1, &readable, NULL, NULL, &five);
    printf("select, timeout 5s, write after 50ms: %d readable %s\n", n, yes_no(FD_ISSET(ep, &readable)));
    show_elapsed("woken", now_ms() - start, 50);
    MUST(pthread_join(writer, NULL) == 0);

    printf("-- the item removed\n");
    ctl("DEL", ep, EPOLL_CTL_DEL, efd, 0, 0);
    show_poll("poll, eventfd still readable", ep, POLLIN, 0);
    close(ep);
    close(efd);
    return 0;
}
