/*
 * eventfds: IN while the counter is above zero, OUT while one more write of 1 fits (the counter is
 * below 0xfffffffffffffffe), exactly the bits asked for (LTP epoll_wait01: OUT never comes with
 * WRNORM unless asked); semaphore mode stays IN until the counter is read down to zero; ET re-fires
 * on every write even while the counter was already non-zero; an eventfd never reports HUP.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <sys/eventfd.h>

static void add(int fd, uint64_t value)
{
    MUST(write(fd, &value, sizeof value) == sizeof value);
}

static uint64_t take(int fd)
{
    uint64_t value = 0;
    MUST(read(fd, &value, sizeof value) == sizeof value);
    return value;
}

static void counter(void)
{
    printf("-- counter, IN|OUT\n");
    int e = eventfd(0, EFD_NONBLOCK);
    MUST(e >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|OUT data=0xe1", ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLOUT, 0xe1);
    wait_show("counter 0", ep, 8, 0);
    add(e, 5);
    wait_show("counter 5", ep, 8, 0);
    printf("read: %" PRIu64 "\n", take(e));
    wait_show("counter 0 again", ep, 8, 0);
    add(e, 0xfffffffffffffffeULL);
    wait_show("counter at its maximum", ep, 8, 0);
    uint64_t one = 1;
    errno = 0;
    show("write 1 more", write(e, &one, sizeof one));
    printf("read: 0x%" PRIx64 "\n", take(e));
    wait_show("drained", ep, 8, 0);
    close(e);
    close(ep);
}

static void exact_bits(void)
{
    printf("-- OUT alone, and every bit asked\n");
    int e = eventfd(0, EFD_NONBLOCK);
    MUST(e >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD OUT data=1", ep, EPOLL_CTL_ADD, e, EPOLLOUT, 1);
    wait_show("writable", ep, 8, 0);
    ctl("MOD IN|OUT|RDNORM|WRNORM|PRI|RDHUP data=2", ep, EPOLL_CTL_MOD, e,
        EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM | EPOLLPRI | EPOLLRDHUP, 2);
    add(e, 1);
    wait_show("readable and writable", ep, 8, 0);
    ctl("MOD events=0 data=3", ep, EPOLL_CTL_MOD, e, 0, 3);
    wait_show("nothing asked, an eventfd never hangs up", ep, 8, 0);
    close(e);
    close(ep);
}

static void semaphore(void)
{
    printf("-- semaphore mode\n");
    int e = eventfd(0, EFD_NONBLOCK | EFD_SEMAPHORE);
    MUST(e >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN data=4", ep, EPOLL_CTL_ADD, e, EPOLLIN, 4);
    add(e, 3);
    for (int i = 0; i < 3; i++) {
        wait_show("before read", ep, 8, 0);
        printf("read: %" PRIu64 "\n", take(e));
    }
    wait_show("counted down", ep, 8, 0);
    close(e);
    close(ep);
}

static void edge(void)
{
    printf("-- ET: each write is an edge\n");
    int e = eventfd(0, EFD_NONBLOCK);
    MUST(e >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|ET data=5", ep, EPOLL_CTL_ADD, e, EPOLLIN | EPOLLET, 5);
    add(e, 1);
    wait_show("first write", ep, 8, 0);
    wait_show("no new write", ep, 8, 0);
    add(e, 1);
    wait_show("second write, counter was already 1", ep, 8, 0);
    add(e, 1);
    add(e, 1);
    wait_show("two writes, one entry", ep, 8, 0);
    printf("read: %" PRIu64 "\n", take(e));
    wait_show("read", ep, 8, 0);
    ctl("MOD IN|OUT|ET data=6", ep, EPOLL_CTL_MOD, e, EPOLLIN | EPOLLOUT | EPOLLET, 6);
    wait_show("MOD polls again: writable", ep, 8, 0);
    wait_show("no new edge", ep, 8, 0);
    add(e, 1);
    wait_show("a write", ep, 8, 0);
    take(e);
    wait_show("a read wakes writers: OUT edge", ep, 8, 0);
    close(e);
    close(ep);
}

int main(void)
{
    transcript_start();
    counter();
    exact_bits();
    semaphore();
    edge();
    return 0;
}
