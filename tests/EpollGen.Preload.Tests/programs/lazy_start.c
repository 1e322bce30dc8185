/*
 * The first sets of a fresh process, created before any of them is used. What is checked, in order:
 * 1. each epoll_create/epoll_create1 returns the lowest free number, as Linux's does, with
 *    FD_CLOEXEC as asked;
 * 2. the first ctl on a set keeps its number and its FD_CLOEXEC, and the set reports;
 * 3. a set first used as the target of another set's ADD nests, and reports through it;
 * 4. two threads' first ctls on one set, at once, both succeed and both register;
 * 5. a set first used by dup is the same set under both numbers;
 * 6. a set replaced by dup2 before any use is closed: its number is the other file's.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>
#include <pthread.h>

/* The lowest free number, found the way the kernel hands one out. */
static int lowest_free(void)
{
    int fd = open("/dev/null", O_RDONLY);
    MUST(fd >= 0);
    close(fd);
    return fd;
}

static void create_at_lowest(const char *label, int *ep, int (*create)(int), int argument, int cloexec)
{
    int expected = lowest_free();
    errno = 0;
    *ep = create(argument);
    show_fd(label, *ep);
    printf("%s: the lowest free number: %s, FD_CLOEXEC %s\n", label, yes_no(*ep == expected),
           yes_no(fcntl(*ep, F_GETFD) == (cloexec ? FD_CLOEXEC : 0)));
}

struct racer {
    pthread_barrier_t *start;
    int ep;
    int fd;
    uint64_t data;
    int result;
};

static void *race_first_ctl(void *argument)
{
    struct racer *racer = argument;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = racer->data };
    pthread_barrier_wait(racer->start);
    racer->result = epoll_ctl(racer->ep, EPOLL_CTL_ADD, racer->fd, &ev);
    return NULL;
}

int main(void)
{
    transcript_start();
    int ep, cloexec, inner, raced, duped, replaced;
    create_at_lowest("epoll_create1(0)", &ep, epoll_create1, 0, 0);
    create_at_lowest("epoll_create1(EPOLL_CLOEXEC)", &cloexec, epoll_create1, EPOLL_CLOEXEC, 1);
    create_at_lowest("epoll_create(1) inner", &inner, epoll_create, 1, 0);
    create_at_lowest("epoll_create1(0) for the race", &raced, epoll_create1, 0, 0);
    create_at_lowest("epoll_create1(0) for dup", &duped, epoll_create1, 0, 0);
    create_at_lowest("epoll_create1(0) for dup2", &replaced, epoll_create1, 0, 0);
    errno = 0;
    show_fd("epoll_create1(-1)", epoll_create1(-1));
    errno = 0;
    show_fd("epoll_create(0)", epoll_create(0));

    printf("-- first use: ctl\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int number = cloexec;
    ctl("ADD pipe IN data=0x1 to the CLOEXEC set", cloexec, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1);
    MUST(write(p[1], "x", 1) == 1);
    printf("same number: %s, FD_CLOEXEC %s\n", yes_no(cloexec == number), yes_no(fcntl(cloexec, F_GETFD) == FD_CLOEXEC));
    wait_show("wait", cloexec, 8, 0);
    ctl("ADD pipe IN data=0x2 to the first set", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x2);
    printf("FD_CLOEXEC still unset: %s\n", yes_no(fcntl(ep, F_GETFD) == 0));
    wait_show("wait", ep, 8, 0);

    printf("-- first use: the target of an ADD\n");
    ctl("ADD inner to the first set data=0x3", ep, EPOLL_CTL_ADD, inner, EPOLLIN, 0x3);
    wait_show("wait", ep, 8, 0);
    ctl("ADD pipe IN data=0x4 to inner", inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x4);
    wait_show_sorted("wait", ep, 8, 0);
    wait_show("inner: wait", inner, 8, 0);
    ctl("ADD the first set to inner (a loop)", inner, EPOLL_CTL_ADD, ep, EPOLLIN, 0x5);

    printf("-- first use: two threads at once\n");
    int q[2];
    MUST(pipe2(q, O_NONBLOCK) == 0);
    MUST(write(q[1], "y", 1) == 1);
    pthread_barrier_t start;
    MUST(pthread_barrier_init(&start, NULL, 2) == 0);
    struct racer racers[2] = {
        { &start, raced, p[0], 0x6, -2 },
        { &start, raced, q[0], 0x7, -2 },
    };
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        MUST(pthread_create(&threads[i], NULL, race_first_ctl, &racers[i]) == 0);
    for (int i = 0; i < 2; i++)
        MUST(pthread_join(threads[i], NULL) == 0);
    printf("both ADDs: %d %d\n", racers[0].result, racers[1].result);
    wait_show_sorted("wait", raced, 8, 0);
    pthread_barrier_destroy(&start);

    printf("-- first use: dup\n");
    int copy = dup(duped);
    show_fd("dup", copy);
    ctl("ADD pipe IN data=0x8 through the dup", copy, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x8);
    wait_show("wait through the first number", duped, 8, 0);
    ctl("ADD pipe through the first number again", duped, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x9);

    printf("-- dup2 over an unused set\n");
    printf("dup2(pipe, set) returns the set's number: %s\n", yes_no(dup2(q[0], replaced) == replaced));
    char byte;
    errno = 0;
    show("read from the set's number", read(replaced, &byte, 1));
    ctl("ADD to the set's number", replaced, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xa);
    close(replaced);

    close(copy);
    close(duped);
    close(raced);
    close(inner);
    close(ep);
    close(cloexec);
    close(q[0]);
    close(q[1]);
    close(p[0]);
    close(p[1]);
    return 0;
}
