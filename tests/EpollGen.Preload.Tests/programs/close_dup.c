/*
 * close, dup, dup2, dup3 and fcntl(F_DUPFD*) against epoll (epoll(7) Q&A 6 and 7; epoll_ctl(2)):
 * - a registration belongs to the open file, keyed by (fd number, file): closing the registered fd
 *   removes it when no other fd refers to the file, and a dup (dup, F_DUPFD, a fork's copy) keeps it
 *   alive, still reporting under the old data, reachable by neither fd's number;
 * - dup2 of the same file onto the registered number keeps the key; dup2 of another file onto it
 *   makes the number name a new, unregistered file, and the old registration lives on while a dup
 *   of the old file does, so one number can then be registered twice;
 * - a dup of an epoll fd names the same set; dup2/dup3 onto an epoll fd replace what that number
 *   names; F_DUPFD/F_DUPFD_CLOEXEC copy an epoll fd with FD_CLOEXEC clear/set;
 * - epoll_create1(EPOLL_CLOEXEC) sets FD_CLOEXEC, epoll_create and epoll_create1(0) do not.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>

static void pipe_nonblocking(int p[2])
{
    MUST(pipe2(p, O_NONBLOCK) == 0);
}

static void cloexec(const char *label, int fd)
{
    int flags = fcntl(fd, F_GETFD);
    MUST(flags >= 0);
    printf("%s: FD_CLOEXEC %s\n", label, yes_no(flags & FD_CLOEXEC));
}

static void close_removes(void)
{
    printf("-- closing the only fd of a registered file\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD read end IN data=1", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("before close", ep, 8, 0);
    show("close read end", close(p[0]));
    wait_show("after close", ep, 8, 0);
    ctl("DEL the closed number", ep, EPOLL_CTL_DEL, p[0], 0, 0);
    close(p[1]);
    close(ep);
}

static void dup_keeps(const char *how)
{
    printf("-- closing a registered fd that has a copy made with %s\n", how);
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD read end IN data=2", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 2);
    int copy = strcmp(how, "dup") == 0 ? dup(p[0]) : fcntl(p[0], F_DUPFD, 0);
    MUST(copy >= 0);
    show("close read end", close(p[0]));
    MUST(write(p[1], "x", 1) == 1);
    wait_show("the registration outlives the close", ep, 8, 0);
    ctl("DEL the closed number", ep, EPOLL_CTL_DEL, p[0], 0, 0);
    ctl("DEL the copy's number", ep, EPOLL_CTL_DEL, copy, 0, 0);
    ctl("MOD the copy's number", ep, EPOLL_CTL_MOD, copy, EPOLLIN, 9);
    ctl("ADD the copy data=3", ep, EPOLL_CTL_ADD, copy, EPOLLIN, 3);
    wait_show_sorted("both registrations (sorted by data)", ep, 8, 0);
    show("close the copy", close(copy));
    wait_show("both gone with the last fd", ep, 8, 0);
    close(p[1]);
    close(ep);
}

static void dup2_onto_registered(void)
{
    printf("-- dup2 onto a registered number\n");
    int p[2], q[2];
    pipe_nonblocking(p);
    pipe_nonblocking(q);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    int keep = dup(p[0]);
    MUST(keep >= 0);
    ctl("ADD p read end IN data=4", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 4);
    printf("dup2 of a copy of the same file onto it returns that number: %s\n", yes_no(dup2(keep, p[0]) == p[0]));
    ctl("MOD via that number data=5", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 5);
    printf("dup2 of another pipe onto it returns that number: %s\n", yes_no(dup2(q[0], p[0]) == p[0]));
    MUST(write(p[1], "x", 1) == 1);
    wait_show("the old file still has a copy: still reported", ep, 8, 0);
    ctl("MOD via the number, which now names the other pipe", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 6);
    ctl("ADD via the number data=7", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 7);
    MUST(write(q[1], "y", 1) == 1);
    wait_show_sorted("one number, two registrations (sorted by data)", ep, 8, 0);
    ctl("DEL via the number", ep, EPOLL_CTL_DEL, p[0], 0, 0);
    wait_show("the old registration is left", ep, 8, 0);
    show("close the last copy of the old file", close(keep));
    wait_show("nothing left", ep, 8, 0);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    close(ep);
}

static void dup_of_set(void)
{
    printf("-- a dup of an epoll fd\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    int copy = dup(ep);
    MUST(copy >= 0);
    ctl("ADD through the copy data=8", copy, EPOLL_CTL_ADD, p[0], EPOLLIN, 8);
    ctl("ADD the same through the original", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 8);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("wait on the original", ep, 8, 0);
    ctl("MOD through the original data=9", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 9);
    wait_show("wait on the copy", copy, 8, 0);
    show("close the original", close(ep));
    wait_show("wait on the closed original", ep, 8, 0);
    wait_show("wait on the copy", copy, 8, 0);
    ctl("ADD the copy into itself", copy, EPOLL_CTL_ADD, copy, EPOLLIN, 1);
    close(copy);
    close(p[0]);
    close(p[1]);
}

static void onto_set(void)
{
    printf("-- dup2 and dup3 onto an epoll fd\n");
    int a[2], b[2];
    pipe_nonblocking(a);
    pipe_nonblocking(b);
    int set_a = epoll_create1(0), set_b = epoll_create1(EPOLL_CLOEXEC);
    MUST(set_a >= 0 && set_b >= 0);
    ctl_must(set_a, EPOLL_CTL_ADD, a[0], EPOLLIN, 0xa);
    ctl_must(set_b, EPOLL_CTL_ADD, b[0], EPOLLIN, 0xb);
    MUST(write(a[1], "x", 1) == 1);
    MUST(write(b[1], "x", 1) == 1);
    printf("dup2(set a, set a) returns set a: %s\n", yes_no(dup2(set_a, set_a) == set_a));
    wait_show("set a still works", set_a, 8, 0);
    errno = 0;
    show("dup3(set a, set a, 0)", dup3(set_a, set_a, 0));
    printf("dup2(set a, set b) returns set b's number: %s\n", yes_no(dup2(set_a, set_b) == set_b));
    wait_show("set b's number now waits on set a", set_b, 8, 0);
    cloexec("set b's number after dup2", set_b);
    ctl("ADD b's pipe through set b's number data=0xbb", set_b, EPOLL_CTL_ADD, b[0], EPOLLIN, 0xbb);
    wait_show_sorted("set a has both now (sorted by data)", set_a, 8, 0);
    printf("dup3(set a, set b, O_CLOEXEC) returns set b's number: %s\n", yes_no(dup3(set_a, set_b, O_CLOEXEC) == set_b));
    cloexec("set b's number after dup3 with O_CLOEXEC", set_b);
    cloexec("set a", set_a);
    printf("dup2(a pipe, set b) returns set b's number: %s\n", yes_no(dup2(b[0], set_b) == set_b));
    wait_show("wait on set b's number, now a pipe", set_b, 8, 0);
    ctl("ADD through set b's number, now a pipe", set_b, EPOLL_CTL_ADD, a[0], EPOLLIN, 1);
    wait_show_sorted("set a is untouched (sorted by data)", set_a, 8, 0);
    close(set_a);
    close(set_b);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
}

static void fcntl_dup(void)
{
    printf("-- fcntl F_DUPFD and F_DUPFD_CLOEXEC of an epoll fd\n");
    int p[2];
    pipe_nonblocking(p);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    MUST(ep >= 0);
    ctl_must(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xd);
    MUST(write(p[1], "x", 1) == 1);
    int plain = fcntl(ep, F_DUPFD, 100);
    show_fd("F_DUPFD from 100", plain);
    printf("F_DUPFD from 100: at least 100 %s\n", yes_no(plain >= 100));
    cloexec("F_DUPFD copy", plain);
    wait_show("wait on the F_DUPFD copy", plain, 8, 0);
    int closing = fcntl(ep, F_DUPFD_CLOEXEC, 0);
    show_fd("F_DUPFD_CLOEXEC", closing);
    cloexec("F_DUPFD_CLOEXEC copy", closing);
    ctl("ADD through the F_DUPFD_CLOEXEC copy, already there", closing, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xd);
    close(ep);
    close(plain);
    wait_show("the last copy still waits", closing, 8, 0);
    close(closing);
    close(p[0]);
    close(p[1]);
}

static void create_flags(void)
{
    printf("-- FD_CLOEXEC from the create calls\n");
    int with = epoll_create1(EPOLL_CLOEXEC), without = epoll_create1(0), old = epoll_create(1);
    MUST(with >= 0 && without >= 0 && old >= 0);
    cloexec("epoll_create1(EPOLL_CLOEXEC)", with);
    cloexec("epoll_create1(0)", without);
    cloexec("epoll_create(1)", old);
    int copy = dup(with);
    MUST(copy >= 0);
    cloexec("dup of the EPOLL_CLOEXEC one", copy);
    MUST(fcntl(without, F_SETFD, FD_CLOEXEC) == 0);
    cloexec("epoll_create1(0) after F_SETFD", without);
    printf("F_GETFL of an epoll fd is O_RDWR: %s\n", yes_no((fcntl(with, F_GETFL) & O_ACCMODE) == O_RDWR));
    close(with);
    close(without);
    close(old);
    close(copy);
}

int main(void)
{
    transcript_start();
    close_removes();
    dup_keeps("dup");
    dup_keeps("F_DUPFD");
    dup2_onto_registered();
    dup_of_set();
    onto_set();
    fcntl_dup();
    create_flags();
    return 0;
}
