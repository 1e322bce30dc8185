/*
 * Unix socketpairs of each type: OUT while there is room, IN with data, RDHUP only when asked for,
 * after the peer's SHUT_WR or a local SHUT_RD, HUP when both directions are shut or the peer is gone.
 * The stream cases follow LTP epoll_wait05; the datagram and seqpacket ones print what unix_poll
 * and unix_dgram_poll answer.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <sys/socket.h>

#define ALL (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI)

static int pair(int type, int s[2])
{
    return socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, s);
}

static void shutdowns(const char *name, int type)
{
    printf("-- %s: peer SHUT_WR, then local SHUT_WR\n", name);
    int s[2];
    MUST(pair(type, s) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|OUT|RDHUP|PRI data=1", ep, EPOLL_CTL_ADD, s[0], ALL, 1);
    wait_show("idle", ep, 8, 0);
    MUST(write(s[1], "hi", 2) == 2);
    wait_show("peer wrote", ep, 8, 0);
    MUST(shutdown(s[1], SHUT_WR) == 0);
    wait_show("peer SHUT_WR", ep, 8, 0);
    char buffer[8];
    MUST(read(s[0], buffer, sizeof buffer) == 2);
    wait_show("data read", ep, 8, 0);
    MUST(shutdown(s[0], SHUT_WR) == 0);
    wait_show("local SHUT_WR too", ep, 8, 0);
    close(s[0]);
    close(s[1]);
    close(ep);

    printf("-- %s: local SHUT_RD\n", name);
    MUST(pair(type, s) == 0);
    ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|OUT|RDHUP|PRI data=2", ep, EPOLL_CTL_ADD, s[0], ALL, 2);
    MUST(shutdown(s[0], SHUT_RD) == 0);
    wait_show("SHUT_RD", ep, 8, 0);
    close(s[0]);
    close(s[1]);
    close(ep);

    printf("-- %s: peer closed\n", name);
    MUST(pair(type, s) == 0);
    ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|OUT|RDHUP|PRI data=3", ep, EPOLL_CTL_ADD, s[0], ALL, 3);
    ctl("ADD the peer IN|OUT data=4", ep, EPOLL_CTL_ADD, s[1], EPOLLIN | EPOLLOUT, 4);
    wait_show("both idle", ep, 8, 0);
    MUST(close(s[1]) == 0);
    wait_show("peer closed", ep, 8, 0);
    close(s[0]);
    close(ep);

    printf("-- %s: RDHUP not asked for\n", name);
    MUST(pair(type, s) == 0);
    ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN data=5", ep, EPOLL_CTL_ADD, s[0], EPOLLIN, 5);
    MUST(shutdown(s[1], SHUT_WR) == 0);
    wait_show("peer SHUT_WR", ep, 8, 0);
    close(s[0]);
    close(s[1]);
    close(ep);
}

static void stream_et(void)
{
    printf("-- stream, ET: each chunk from the peer is a new edge\n");
    int s[2];
    MUST(pair(SOCK_STREAM, s) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|ET data=6", ep, EPOLL_CTL_ADD, s[0], EPOLLIN | EPOLLET, 6);
    MUST(write(s[1], "a", 1) == 1);
    wait_show("first chunk", ep, 8, 0);
    wait_show("nothing new", ep, 8, 0);
    MUST(write(s[1], "b", 1) == 1);
    wait_show("second chunk, first unread", ep, 8, 0);
    close(s[0]);
    close(s[1]);
    close(ep);
}

static void full_socket(void)
{
    printf("-- stream: OUT returns when the peer reads\n");
    int s[2];
    MUST(pair(SOCK_STREAM, s) == 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD OUT data=7", ep, EPOLL_CTL_ADD, s[0], EPOLLOUT, 7);
    static char block[65536];
    while (write(s[0], block, sizeof block) > 0)
        ;
    printf("filled: EAGAIN %s\n", yes_no(errno == EAGAIN));
    wait_show("full", ep, 8, 0);
    while (read(s[1], block, sizeof block) > 0)
        ;
    wait_show("peer drained", ep, 8, 0);
    close(s[0]);
    close(s[1]);
    close(ep);
}

int main(void)
{
    transcript_start();
    shutdowns("stream", SOCK_STREAM);
    shutdowns("seqpacket", SOCK_SEQPACKET);
    shutdowns("dgram", SOCK_DGRAM);
    stream_et();
    full_socket();
    return 0;
}
