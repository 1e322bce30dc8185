/*
 * An epoll fd inside another epoll: the outer set reports the inner one as IN (data of the outer
 * registration) while the inner set has ready items; OUT is never reported (an epoll fd is never
 * writable); LT on the outer link re-reports, ET reports once per new inner wake-up; a chain of five
 * sets over a pipe reports IN at every level (LTP epoll_wait09); the inner item harvested by an inner
 * ET wait no longer makes the outer ready; closing the inner set's only fd removes it from the outer.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>
#include <pthread.h>

static void two_levels(void)
{
    printf("-- outer LT over inner LT over a pipe\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int inner = epoll_create1(0), outer = epoll_create1(0);
    MUST(inner >= 0 && outer >= 0);
    ctl("inner ADD pipe IN data=0x1", inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1);
    ctl("outer ADD inner IN|OUT data=0x2", outer, EPOLL_CTL_ADD, inner, EPOLLIN | EPOLLOUT, 0x2);
    wait_show("outer, nothing written", outer, 8, 0);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("outer, after write", outer, 8, 0);
    wait_show("outer again (LT)", outer, 8, 0);
    wait_show("inner", inner, 8, 0);
    wait_show("outer, inner still ready", outer, 8, 0);
    char c;
    MUST(read(p[0], &c, 1) == 1);
    wait_show("outer, pipe drained", outer, 8, 0);
    ctl("outer MOD inner OUT data=0x3", outer, EPOLL_CTL_MOD, inner, EPOLLOUT, 0x3);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("outer asks OUT only, inner ready", outer, 8, 0);
    close(p[0]);
    close(p[1]);
    close(inner);
    close(outer);
}

static void outer_edge(void)
{
    printf("-- outer ET over inner LT\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int inner = epoll_create1(0), outer = epoll_create1(0);
    MUST(inner >= 0 && outer >= 0);
    ctl_must(inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x11);
    ctl("outer ADD inner IN|ET data=0x12", outer, EPOLL_CTL_ADD, inner, EPOLLIN | EPOLLET, 0x12);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("outer, first write", outer, 8, 0);
    wait_show("outer, no new wake-up", outer, 8, 0);
    MUST(write(p[1], "y", 1) == 1);
    wait_show("outer, second write", outer, 8, 0);
    close(p[0]);
    close(p[1]);
    close(inner);
    close(outer);
}

static void inner_edge_harvested(void)
{
    printf("-- inner ET item harvested by an inner wait\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int inner = epoll_create1(0), outer = epoll_create1(0);
    MUST(inner >= 0 && outer >= 0);
    ctl_must(inner, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLET, 0x21);
    ctl_must(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 0x22);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("inner", inner, 8, 0);
    wait_show("outer, inner has nothing ready", outer, 8, 0);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("outer, new edge in the inner set", outer, 8, 0);
    wait_show("outer again, inner untouched", outer, 8, 0);
    close(p[0]);
    close(p[1]);
    close(inner);
    close(outer);
}

static void chain_of_five(void)
{
    printf("-- pipe in e1 in e2 in e3 in e4 in e5\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int e[5];
    for (int i = 0; i < 5; i++)
        MUST((e[i] = epoll_create1(0)) >= 0);
    ctl("e1 ADD pipe data=0x100", e[0], EPOLL_CTL_ADD, p[0], EPOLLIN, 0x100);
    char label[64];
    for (int i = 1; i < 5; i++) {
        snprintf(label, sizeof label, "e%d ADD e%d data=0x%x", i + 1, i, 0x100 + i);
        ctl(label, e[i], EPOLL_CTL_ADD, e[i - 1], EPOLLIN, 0x100 + (uint64_t)i);
    }
    MUST(write(p[1], "x", 1) == 1);
    for (int i = 4; i >= 0; i--) {
        snprintf(label, sizeof label, "wait e%d", i + 1);
        wait_show(label, e[i], 8, 0);
    }
    for (int i = 0; i < 5; i++)
        close(e[i]);
    close(p[0]);
    close(p[1]);
}

static void inner_closed(void)
{
    printf("-- closing the inner set's only fd\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int inner = epoll_create1(0), outer = epoll_create1(0);
    MUST(inner >= 0 && outer >= 0);
    ctl_must(inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x31);
    ctl_must(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 0x32);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("outer before", outer, 8, 0);
    show("close inner", close(inner));
    wait_show("outer after", outer, 8, 0);
    close(p[0]);
    close(p[1]);
    close(outer);
}

static void *write_later(void *arg)
{
    sleep_ms(50);
    MUST(write(*(int *)arg, "x", 1) == 1);
    return NULL;
}

static void wakes_blocked_outer(void)
{
    printf("-- a blocked outer wait wakes for a write into the inner set\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int inner = epoll_create1(0), outer = epoll_create1(0);
    MUST(inner >= 0 && outer >= 0);
    ctl_must(inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x41);
    ctl_must(outer, EPOLL_CTL_ADD, inner, EPOLLIN, 0x42);
    int64_t start = now_ms();
    pthread_t writer;
    MUST(pthread_create(&writer, NULL, write_later, &p[1]) == 0);
    wait_show("outer, wait up to 5000ms, another thread writes after 50ms", outer, 8, 5000);
    show_elapsed("woken", now_ms() - start, 50);
    MUST(pthread_join(writer, NULL) == 0);
    close(p[0]);
    close(p[1]);
    close(inner);
    close(outer);
}

int main(void)
{
    transcript_start();
    two_levels();
    outer_edge();
    inner_edge_harvested();
    chain_of_five();
    inner_closed();
    wakes_blocked_outer();
    return 0;
}
