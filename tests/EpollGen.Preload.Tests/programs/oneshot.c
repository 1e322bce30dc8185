/*
 * EPOLLONESHOT (epoll_ctl(2), epoll(7)): after one delivered event the item is disarmed but stays
 * registered (ADD is EEXIST, DEL works); a disarmed item reports nothing, not even the HUP of a
 * closed writer; MOD re-arms with a new mask and data and reports at once if the fd is ready; an
 * event that was queued but not ready at harvest does not disarm; ONESHOT|ET behaves the same.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>

static void disarm_and_rearm(uint32_t extra, const char *name)
{
    printf("-- ONESHOT%s\n", name);
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|ONESHOT data=1", ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT | extra, 1);
    wait_show("nothing written", ep, 8, 0);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("written", ep, 8, 0);
    wait_show("disarmed, data still there", ep, 8, 0);
    MUST(write(p[1], "y", 1) == 1);
    wait_show("disarmed, more written", ep, 8, 0);
    ctl("ADD again", ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT | extra, 1);
    MUST(close(p[1]) == 0);
    wait_show("disarmed, writer closed", ep, 8, 0);
    ctl("MOD IN|ONESHOT data=2", ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLONESHOT | extra, 2);
    wait_show("re-armed on a ready fd", ep, 8, 0);
    wait_show("disarmed again", ep, 8, 0);
    ctl("MOD events=ONESHOT only, data=3", ep, EPOLL_CTL_MOD, p[0], EPOLLONESHOT | extra, 3);
    wait_show("armed for ERR|HUP only", ep, 8, 0);
    wait_show("disarmed by the HUP", ep, 8, 0);
    ctl("DEL while disarmed", ep, EPOLL_CTL_DEL, p[0], 0, 0);
    ctl("MOD after DEL", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 4);
    close(p[0]);
    close(ep);
}

static void not_ready_at_harvest(void)
{
    printf("-- a queued event found not ready at harvest does not disarm\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|ONESHOT data=5", ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT, 5);
    MUST(write(p[1], "x", 1) == 1);
    char c;
    MUST(read(p[0], &c, 1) == 1);
    wait_show("written and read before the wait", ep, 8, 0);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("written again", ep, 8, 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void mod_to_level(void)
{
    printf("-- MOD without ONESHOT makes it level-triggered for good\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|ONESHOT data=6", ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLONESHOT, 6);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("written", ep, 8, 0);
    ctl("MOD IN data=7", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 7);
    wait_show("first", ep, 8, 0);
    wait_show("second", ep, 8, 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void several(void)
{
    printf("-- each item disarms on its own, maxevents 1\n");
    int a[2], b[2];
    MUST(pipe2(a, O_NONBLOCK) == 0);
    MUST(pipe2(b, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    MUST(write(a[1], "x", 1) == 1);
    MUST(write(b[1], "x", 1) == 1);
    ctl("ADD a IN|ONESHOT data=0xa", ep, EPOLL_CTL_ADD, a[0], EPOLLIN | EPOLLONESHOT, 0xa);
    ctl("ADD b IN|ONESHOT data=0xb", ep, EPOLL_CTL_ADD, b[0], EPOLLIN | EPOLLONESHOT, 0xb);
    wait_show("maxevents 1", ep, 1, 0);
    wait_show("maxevents 1", ep, 1, 0);
    wait_show("maxevents 1", ep, 1, 0);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
    }
    close(ep);
}

int main(void)
{
    transcript_start();
    disarm_and_rearm(0, "");
    disarm_and_rearm(EPOLLET, "|ET");
    not_ready_at_harvest();
    mod_to_level();
    several();
    return 0;
}
