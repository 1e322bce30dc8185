/*
 * Pipes: what each end reports, when, and with which data. Checks the masks of epoll(7) and
 * pipe_poll: the read end is IN while data remains and HUP once every writer is gone; the write end
 * is OUT while there is room and ERR once every reader is gone; the mask is the intersection with
 * the registered one plus ERR|HUP; readiness is re-read when harvested, so data read before the wait
 * is not reported; MOD replaces the data; two fds for one pipe are two registrations.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>

static void pipe_nonblocking(int p[2])
{
    MUST(pipe2(p, O_NONBLOCK) == 0);
}

static void drain(int fd)
{
    char buffer[4096];
    while (read(fd, buffer, sizeof buffer) > 0)
        ;
}

static void read_end(void)
{
    printf("-- read end, IN\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD read end IN data=0x1122334455667788", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1122334455667788ULL);
    wait_show("empty pipe, wait 0", ep, 8, 0);
    MUST(write(p[1], "ab", 2) == 2);
    wait_show("after write, wait 0", ep, 8, 0);
    wait_show("level-triggered, still ready", ep, 8, 0);
    char c;
    MUST(read(p[0], &c, 1) == 1);
    wait_show("one byte left", ep, 8, 0);
    MUST(close(p[1]) == 0);
    wait_show("writer closed, data left", ep, 8, 0);
    MUST(read(p[0], &c, 1) == 1);
    wait_show("writer closed, drained", ep, 8, 0);
    close(p[0]);
    close(ep);
}

static void read_end_registered_for_nothing(void)
{
    printf("-- read end, events 0\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD read end events=0", ep, EPOLL_CTL_ADD, p[0], 0, 7);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("data, IN not asked", ep, 8, 0);
    MUST(close(p[1]) == 0);
    wait_show("writer closed, HUP always reported", ep, 8, 0);
    close(p[0]);
    close(ep);
}

static void write_end(void)
{
    printf("-- write end, OUT\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD write end OUT data=2", ep, EPOLL_CTL_ADD, p[1], EPOLLOUT, 2);
    wait_show("empty pipe", ep, 8, 0);
    static char block[65536];
    long written = 0;
    for (;;) {
        ssize_t n = write(p[1], block, sizeof block);
        if (n < 0)
            break;
        written += n;
    }
    printf("filled: EAGAIN %s\n", yes_no(errno == EAGAIN));
    wait_show("full pipe", ep, 8, 0);
    drain(p[0]);
    wait_show("drained", ep, 8, 0);
    MUST(close(p[0]) == 0);
    wait_show("reader closed", ep, 8, 0);
    close(p[1]);
    close(ep);
}

static void both_ends_all_bits(void)
{
    printf("-- masks are the intersection with what was asked\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    uint32_t all = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLRDNORM | EPOLLWRNORM;
    ctl("ADD read end IN|OUT|PRI|RDHUP|RDNORM|WRNORM data=0xa", ep, EPOLL_CTL_ADD, p[0], all, 0xa);
    ctl("ADD write end IN|OUT|PRI|RDHUP|RDNORM|WRNORM data=0xb", ep, EPOLL_CTL_ADD, p[1], all, 0xb);
    wait_show("empty", ep, 8, 0);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("one byte", ep, 8, 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void harvest_time(void)
{
    printf("-- readiness is read when harvested\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD read end IN|ET data=3", ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 3);
    MUST(write(p[1], "x", 1) == 1);
    char c;
    MUST(read(p[0], &c, 1) == 1);
    wait_show("written and read before the wait (ET)", ep, 8, 0);
    ctl("MOD IN (LT) data=4", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 4);
    MUST(write(p[1], "x", 1) == 1);
    MUST(read(p[0], &c, 1) == 1);
    wait_show("written and read before the wait (LT)", ep, 8, 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void mod_and_del(void)
{
    printf("-- MOD replaces mask and data, DEL removes\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD read end IN data=5", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 5);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("ready", ep, 8, 0);
    ctl("MOD events=0 data=6", ep, EPOLL_CTL_MOD, p[0], 0, 6);
    wait_show("IN no longer asked", ep, 8, 0);
    ctl("MOD IN data=7", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 7);
    wait_show("IN again, new data", ep, 8, 0);
    ctl("DEL", ep, EPOLL_CTL_DEL, p[0], 0, 0);
    wait_show("after DEL", ep, 8, 0);
    ctl("DEL again", ep, EPOLL_CTL_DEL, p[0], 0, 0);
    ctl("MOD after DEL", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 8);
    ctl("ADD after DEL data=9", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 9);
    wait_show("re-added", ep, 8, 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void order(void)
{
    printf("-- order: ready at ADD in ADD order, later in wake-up order\n");
    int a[2], b[2], c[2];
    pipe_nonblocking(a);
    pipe_nonblocking(b);
    pipe_nonblocking(c);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    MUST(write(c[1], "x", 1) == 1);
    MUST(write(a[1], "x", 1) == 1);
    ctl_must(ep, EPOLL_CTL_ADD, a[0], EPOLLIN, 0xa);
    ctl_must(ep, EPOLL_CTL_ADD, b[0], EPOLLIN, 0xb);
    ctl_must(ep, EPOLL_CTL_ADD, c[0], EPOLLIN, 0xc);
    wait_show("c then a written before ADD a, b, c", ep, 8, 0);
    drain(a[0]);
    drain(c[0]);
    wait_show("drained", ep, 8, 0);
    MUST(write(c[1], "x", 1) == 1);
    MUST(write(b[1], "x", 1) == 1);
    MUST(write(a[1], "x", 1) == 1);
    wait_show("c, b, a written after ADD", ep, 8, 0);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
        close(c[i]);
    }
    close(ep);
}

static void two_fds_one_pipe(void)
{
    printf("-- a dup of a registered fd is a registration of its own\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    int copy = dup(p[0]);
    MUST(copy >= 0);
    ctl("ADD read end data=0x10", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x10);
    ctl("ADD its dup data=0x11", ep, EPOLL_CTL_ADD, copy, EPOLLIN, 0x11);
    MUST(write(p[1], "x", 1) == 1);
    wait_show_sorted("one write (sorted by data)", ep, 8, 0);
    close(copy);
    close(p[0]);
    close(p[1]);
    close(ep);
}

int main(void)
{
    transcript_start();
    read_end();
    read_end_registered_for_nothing();
    write_end();
    both_ends_all_bits();
    harvest_time();
    mod_and_del();
    order();
    two_fds_one_pipe();
    return 0;
}
