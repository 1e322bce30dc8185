/*
 * Edge- versus level-triggered (epoll(7), epoll_wait(2) NOTES): LT reports a ready fd on every wait;
 * ET reports it once per new wake-up from the source, a new chunk of data re-fires even while old
 * data is unread, and MOD re-fires; with more LT items ready than maxevents, waits take them in turns
 * (the ones not returned stay at the head of the ready list, the returned ones go to its tail), so
 * every item appears equally often (LTP epoll_wait13 and epoll_wait14).
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>
#include <sys/socket.h>

static void level(void)
{
    printf("-- LT\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN data=1", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 1);
    MUST(write(p[1], "ab", 2) == 2);
    for (int i = 0; i < 3; i++)
        wait_show("wait", ep, 8, 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void edge(void)
{
    printf("-- ET\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|ET data=2", ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 2);
    MUST(write(p[1], "ab", 2) == 2);
    wait_show("written", ep, 8, 0);
    wait_show("nothing new", ep, 8, 0);
    char c;
    MUST(read(p[0], &c, 1) == 1);
    wait_show("a read is not an edge for IN", ep, 8, 0);
    MUST(write(p[1], "c", 1) == 1);
    wait_show("new data, old still unread", ep, 8, 0);
    wait_show("nothing new", ep, 8, 0);
    ctl("MOD IN|ET data=3", ep, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLET, 3);
    wait_show("MOD re-reads readiness", ep, 8, 0);
    wait_show("nothing new", ep, 8, 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

static void edge_ignores_other_direction(void)
{
    printf("-- ET IN-only: a wake-up for OUT alone is not an edge\n");
    int s[2];
    MUST(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, s) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|ET data=4", ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLET, 4);
    MUST(write(s[1], "x", 1) == 1);
    wait_show("peer wrote", ep, 8, 0);
    static char block[65536];
    while (write(s[0], block, sizeof block) > 0)
        ;
    while (read(s[1], block, sizeof block) > 0)
        ;
    wait_show("peer read everything we sent: room freed, our data still unread", ep, 8, 0);
    close(s[0]);
    close(s[1]);
    close(ep);
}

static void round_robin(void)
{
    printf("-- LT, 5 ready items, maxevents 2\n");
    int p[5][2];
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    for (int i = 0; i < 5; i++) {
        MUST(pipe2(p[i], O_NONBLOCK) == 0);
        MUST(write(p[i][1], "x", 1) == 1);
        ctl_must(ep, EPOLL_CTL_ADD, p[i][0], EPOLLIN, 0x10 + (uint64_t)i);
    }
    for (int i = 0; i < 6; i++)
        wait_show("maxevents 2", ep, 2, 0);

    printf("-- LT, 13 ready items, maxevents 3, 52 events\n");
    int q[13][2];
    int ep2 = epoll_create1(0);
    MUST(ep2 >= 0);
    for (int i = 0; i < 13; i++) {
        MUST(pipe2(q[i], O_NONBLOCK) == 0);
        MUST(write(q[i][1], "x", 1) == 1);
        ctl_must(ep2, EPOLL_CTL_ADD, q[i][0], EPOLLIN, (uint64_t)i);
    }
    int seen[13] = { 0 };
    int total = 0;
    while (total < 52) {
        struct epoll_event events[3];
        int n = epoll_wait(ep2, events, 52 - total < 3 ? 52 - total : 3, 0);
        MUST(n > 0);
        for (int i = 0; i < n; i++)
            seen[events[i].data.u64]++;
        total += n;
    }
    printf("times each item was reported:");
    for (int i = 0; i < 13; i++)
        printf(" %d", seen[i]);
    printf("\n");

    printf("-- a drained item drops out of the turns\n");
    char c;
    MUST(read(p[2][0], &c, 1) == 1);
    for (int i = 0; i < 3; i++)
        wait_show("maxevents 2", ep, 2, 0);
    for (int i = 0; i < 5; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
    for (int i = 0; i < 13; i++) {
        close(q[i][0]);
        close(q[i][1]);
    }
    close(ep);
    close(ep2);
}

static void edge_and_level_mixed(void)
{
    printf("-- ET and LT items in one set, maxevents 1\n");
    int a[2], b[2];
    MUST(pipe2(a, O_NONBLOCK) == 0);
    MUST(pipe2(b, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl_must(ep, EPOLL_CTL_ADD, a[0], EPOLLIN | EPOLLET, 0xe);
    ctl_must(ep, EPOLL_CTL_ADD, b[0], EPOLLIN, 0x1);
    MUST(write(a[1], "x", 1) == 1);
    MUST(write(b[1], "x", 1) == 1);
    for (int i = 0; i < 4; i++)
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
    level();
    edge();
    edge_ignores_other_direction();
    round_robin();
    edge_and_level_mixed();
    return 0;
}
