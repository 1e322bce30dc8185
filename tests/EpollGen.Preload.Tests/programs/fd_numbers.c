/*
 * fd numbers: the numbers a program is handed are Linux's, before and after its sets are first
 * used; a set fits in the last free slot of the table and works there, and the next set is
 * EMFILE. Numbers print relative to the lowest free fd at the start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>
#include "transcript.h"

static int base;

static void number(const char *what, int fd)
{
    if (fd < 0)
        printf("%s: -1 %s\n", what, errno_name(errno));
    else
        printf("%s: base+%d\n", what, fd - base);
}

int main(void)
{
    alarm(20);
    setvbuf(stdout, NULL, _IONBF, 0);
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    printf("hard limit at least 2048: %s\n", limit.rlim_max >= 2048 ? "yes" : "no");
    base = dup(0);
    close(base);

    /* The last free slot, before anything has used a set. */
    int ready = eventfd(0, EFD_CLOEXEC);
    number("eventfd", ready);
    struct rlimit small = { (rlim_t)base + 4, limit.rlim_max };
    setrlimit(RLIMIT_NOFILE, &small);
    int filler = dup(0), filler2 = dup(0);
    number("filler", filler);
    number("filler", filler2);
    int last = epoll_create1(EPOLL_CLOEXEC);
    number("set in the last slot", last);
    number("one more set", epoll_create1(EPOLL_CLOEXEC));
    struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = 5 };
    printf("ADD in the last slot: %d\n", epoll_ctl(last, EPOLL_CTL_ADD, ready, &ev));
    struct epoll_event out[4];
    int n = epoll_wait(last, out, 4, 1000);
    printf("wait: %d data=%llu\n", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
    close(filler);
    close(filler2);
    close(last);
    limit.rlim_cur = limit.rlim_max < 65536 ? limit.rlim_max : 65536;
    setrlimit(RLIMIT_NOFILE, &limit);

    /* Sets used at once, pipes between them, a nested set, a closed one. */
    int set = epoll_create1(0);
    number("set", set);
    int ends[2];
    pipe(ends);
    number("pipe read", ends[0]);
    number("pipe write", ends[1]);
    ev.events = EPOLLIN;
    ev.data.u64 = 7;
    printf("ADD: %d\n", epoll_ctl(set, EPOLL_CTL_ADD, ends[0], &ev));
    write(ends[1], "x", 1);
    n = epoll_wait(set, out, 4, 1000);
    printf("wait: %d data=%llu\n", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
    number("next fd", dup(0));
    int outer = epoll_create1(0);
    number("outer set", outer);
    ev.data.u64 = 8;
    printf("nest: %d\n", epoll_ctl(outer, EPOLL_CTL_ADD, set, &ev));
    number("next fd", dup(0));
    int third = epoll_create1(0);
    number("third set", third);
    printf("close the pipe's read end: %d\n", close(ends[0]));
    number("next fd (the read end's number)", dup(0));
    printf("close the outer set: %d\n", close(outer));
    number("next fd (the outer set's number)", dup(0));
    number("dup of a set", dup(set));
    return 0;
}
