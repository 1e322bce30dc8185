/*
 * The limits on putting epoll sets inside each other (epoll_ctl(2) ELOOP and EINVAL; fs/eventpoll.c
 * ep_loop_check and EP_MAX_NESTS = 4 links): a set cannot hold itself (EINVAL, also through a dup,
 * since the kernel compares files); a link that closes a cycle of two or three sets is ELOOP; a chain
 * may be five sets deep, and a sixth is refused whether the chain is built upwards, downwards or
 * joined in the middle, and whether or not a pipe sits at the bottom; a refused ADD changes nothing;
 * removing a link lifts the refusal.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>

#define SETS 7

static int e[SETS];

static void open_sets(void)
{
    for (int i = 0; i < SETS; i++)
        MUST((e[i] = epoll_create1(0)) >= 0);
}

static void close_sets(void)
{
    for (int i = 0; i < SETS; i++)
        close(e[i]);
}

/* "eN ADD eM": set M (1-based) into set N. */
static int link_sets(int outer, int inner)
{
    char label[64];
    snprintf(label, sizeof label, "e%d ADD e%d", outer, inner);
    return ctl(label, e[outer - 1], EPOLL_CTL_ADD, e[inner - 1], EPOLLIN, (uint64_t)inner);
}

static void self(void)
{
    printf("-- a set inside itself\n");
    open_sets();
    link_sets(1, 1);
    int copy = dup(e[0]);
    MUST(copy >= 0);
    ctl("e1 ADD a dup of e1", e[0], EPOLL_CTL_ADD, copy, EPOLLIN, 1);
    ctl("dup of e1 ADD e1", copy, EPOLL_CTL_ADD, e[0], EPOLLIN, 1);
    close(copy);
    close_sets();
}

static void cycles(void)
{
    printf("-- cycles\n");
    open_sets();
    link_sets(2, 1);
    link_sets(1, 2);
    link_sets(3, 2);
    link_sets(1, 3);
    ctl("e2 DEL e1", e[1], EPOLL_CTL_DEL, e[0], 0, 0);
    link_sets(1, 3);
    link_sets(2, 1);
    link_sets(3, 1);
    close_sets();
}

static void upwards(int with_pipe)
{
    printf("-- chain built upwards%s\n", with_pipe ? ", pipe at the bottom" : ", no other file");
    open_sets();
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    if (with_pipe)
        ctl("e1 ADD pipe", e[0], EPOLL_CTL_ADD, p[0], EPOLLIN, 0x99);
    for (int outer = 2; outer <= 6; outer++)
        link_sets(outer, outer - 1);
    link_sets(7, 5);
    link_sets(7, 4);
    if (with_pipe) {
        MUST(write(p[1], "x", 1) == 1);
        wait_show("wait e5 after the refusals", e[4], 8, 0);
        wait_show("wait e6", e[5], 8, 0);
    }
    close(p[0]);
    close(p[1]);
    close_sets();
}

static void downwards(void)
{
    printf("-- chain built downwards\n");
    open_sets();
    for (int inner = 5; inner >= 1; inner--)
        link_sets(inner + 1, inner);
    close_sets();
}

static void joined(void)
{
    printf("-- two short chains joined in the middle\n");
    open_sets();
    link_sets(2, 1);
    link_sets(3, 2);
    link_sets(5, 4);
    link_sets(6, 5);
    link_sets(4, 3);
    link_sets(4, 2);
    ctl("e5 DEL e4", e[4], EPOLL_CTL_DEL, e[3], 0, 0);
    link_sets(4, 3);
    close_sets();
}

static void wide(void)
{
    printf("-- depth is per chain, not per set: one set holding many sets\n");
    open_sets();
    for (int inner = 2; inner <= SETS; inner++)
        link_sets(1, inner);
    close_sets();
}

int main(void)
{
    transcript_start();
    self();
    cycles();
    upwards(0);
    upwards(1);
    downwards();
    joined();
    wide();
    return 0;
}
