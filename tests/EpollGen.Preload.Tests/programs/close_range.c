/*
 * close_range(2) over sets and registered fds: each fd it closes is closed as by close(2). What is
 * checked, in order:
 * 1. first > last and unknown flags are EINVAL, and close nothing;
 * 2. CLOSE_RANGE_CLOEXEC closes nothing: it sets FD_CLOEXEC, and the set goes on reporting;
 * 3. a registered fd closed while a dup keeps its file open stays registered and goes on
 *    reporting (epoll(7) Q&A 6), and its number is free: MOD there is EBADF;
 * 4. a registered fd closed for good leaves the set: the set reports nothing, and a new file
 *    under the same number is a new registration;
 * 5. a set closed by close_range is gone: its number, given to a pipe, is not an epoll fd (EINVAL),
 *    and a set it was nested in no longer reports it;
 * 6. one range over a set, registered fds and plain fds closes them all, and nothing else;
 * 7. CLOSE_RANGE_UNSHARE in the program's only thread closes in the one table there is: a
 *    registered fd leaves its set, a set is gone;
 * 8. CLOSE_RANGE_UNSHARE in a second thread closes in that thread's new copy of the table only:
 *    the first thread still has the fd, and its set still reports it.
 * Numbers are reused by a new pipe, moved there with F_DUPFD when it did not land there itself.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>
#include <pthread.h>

/* Where section 6 puts its fds: above everything the program opened before. */
#define RANGE_BASE 200

/* "label: yes" when fd is open, "label: no EBADF" when not. */
static void show_open(const char *label, int fd)
{
    errno = 0;
    int r = fcntl(fd, F_GETFD);
    if (r >= 0)
        printf("%s: yes\n", label);
    else
        printf("%s: no %s\n", label, errno_name(errno));
}

/* A new pipe whose read end has the number fd, which must be free. */
static void reuse_number(int fd, int p[2])
{
    MUST(pipe2(p, O_NONBLOCK) == 0);
    if (p[1] == fd) {
        int moved = fcntl(p[1], F_DUPFD, fd + 1);
        MUST(moved >= 0);
        close(p[1]);
        p[1] = moved;
    }
    if (p[0] != fd) {
        int moved = fcntl(p[0], F_DUPFD, fd);
        MUST(moved == fd);
        close(p[0]);
        p[0] = moved;
    }
}

struct unsharer {
    int fd;
    int result;
    int open_after;
};

static void *close_unshared(void *argument)
{
    struct unsharer *unsharer = argument;
    unsharer->result = close_range((unsigned)unsharer->fd, (unsigned)unsharer->fd, CLOSE_RANGE_UNSHARE);
    unsharer->open_after = fcntl(unsharer->fd, F_GETFD) >= 0;
    return NULL;
}

int main(void)
{
    transcript_start();
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    show_fd("epoll_create1(0)", ep);
    ctl("ADD pipe IN data=0x1", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1);
    MUST(write(p[1], "x", 1) == 1);

    printf("-- refused before closing anything\n");
    errno = 0;
    show("close_range(ep + 1, ep, 0)", close_range((unsigned)ep + 1, (unsigned)ep, 0));
    errno = 0;
    show("close_range(ep, ep, 1 << 7)", close_range((unsigned)ep, (unsigned)ep, 1U << 7));
    errno = 0;
    show("close_range(ep, ep, CLOEXEC | 1 << 7)", close_range((unsigned)ep, (unsigned)ep, CLOSE_RANGE_CLOEXEC | 1U << 7));
    show_open("ep open", ep);
    show_open("pipe open", p[0]);
    wait_show("wait", ep, 8, 0);

    printf("-- CLOSE_RANGE_CLOEXEC\n");
    show("close_range(ep, pipe, CLOEXEC)", close_range((unsigned)(ep < p[0] ? ep : p[0]), (unsigned)(ep < p[0] ? p[0] : ep), CLOSE_RANGE_CLOEXEC));
    printf("ep FD_CLOEXEC: %s\n", yes_no(fcntl(ep, F_GETFD) == FD_CLOEXEC));
    printf("pipe FD_CLOEXEC: %s\n", yes_no(fcntl(p[0], F_GETFD) == FD_CLOEXEC));
    wait_show("wait", ep, 8, 0);

    printf("-- a registered fd whose file a dup keeps open\n");
    int kept = dup(p[0]);
    MUST(kept >= 0);
    int number = p[0];
    show("close_range(pipe, pipe, 0)", close_range((unsigned)number, (unsigned)number, 0));
    show_open("pipe's number open", number);
    wait_show("wait", ep, 8, 0);
    ctl("MOD the closed number", ep, EPOLL_CTL_MOD, number, EPOLLIN, 0x2);
    char byte;
    MUST(read(kept, &byte, 1) == 1);
    wait_show("wait after draining", ep, 8, 0);
    MUST(write(p[1], "y", 1) == 1);
    wait_show("wait after a new write", ep, 8, 0);

    printf("-- a registered fd closed for good\n");
    int q[2];
    MUST(pipe2(q, O_NONBLOCK) == 0);
    ctl("ADD pipe2 IN data=0x3", ep, EPOLL_CTL_ADD, q[0], EPOLLIN, 0x3);
    MUST(write(q[1], "z", 1) == 1);
    int other = epoll_create1(0);
    ctl("ADD pipe2 to a second set data=0x4", other, EPOLL_CTL_ADD, q[0], EPOLLIN, 0x4);
    wait_show("second set: wait", other, 8, 0);
    number = q[0];
    show("close_range(pipe2, pipe2, 0)", close_range((unsigned)number, (unsigned)number, 0));
    close(q[1]);
    close(kept);
    close(p[1]);
    wait_show("first set: wait", ep, 8, 0);
    wait_show("second set: wait", other, 8, 0);
    int r[2];
    reuse_number(number, r);
    MUST(write(r[1], "w", 1) == 1);
    ctl("ADD the new file under the number data=0x5", ep, EPOLL_CTL_ADD, number, EPOLLIN, 0x5);
    ctl("MOD it in the second set", other, EPOLL_CTL_MOD, number, EPOLLIN, 0x6);
    wait_show("first set: wait", ep, 8, 0);

    printf("-- a set closed by close_range\n");
    int inner = epoll_create1(0);
    show_fd("epoll_create1(0) inner", inner);
    ctl("ADD the new file to inner data=0x7", inner, EPOLL_CTL_ADD, number, EPOLLIN, 0x7);
    ctl("ADD inner to the second set data=0x8", other, EPOLL_CTL_ADD, inner, EPOLLIN, 0x8);
    wait_show("second set: wait", other, 8, 0);
    int inner_number = inner;
    show("close_range(inner, inner, 0)", close_range((unsigned)inner_number, (unsigned)inner_number, 0));
    show_open("inner's number open", inner_number);
    wait_show("second set: wait", other, 8, 0);
    int s[2];
    reuse_number(inner_number, s);
    ctl("ADD to the pipe under inner's number", inner_number, EPOLL_CTL_ADD, number, EPOLLIN, 0x9);
    wait_show("wait on the pipe under inner's number", inner_number, 8, 0);
    close(s[0]);
    close(s[1]);

    printf("-- one range over a set, registered fds and plain fds\n");
    int t[2], u[2];
    MUST(pipe2(t, O_NONBLOCK) == 0);
    int last_set = epoll_create1(EPOLL_CLOEXEC);
    MUST(pipe2(u, O_NONBLOCK) == 0);
    int made[5] = { t[0], t[1], last_set, u[0], u[1] };
    int fds[5];
    for (int i = 0; i < 5; i++) {
        fds[i] = fcntl(made[i], F_DUPFD_CLOEXEC, RANGE_BASE + i);
        MUST(fds[i] == RANGE_BASE + i);
        close(made[i]);
    }
    ctl("ADD a pipe to the last set", fds[2], EPOLL_CTL_ADD, fds[0], EPOLLIN, 0xa);
    ctl("ADD it to the first set too", ep, EPOLL_CTL_ADD, fds[0], EPOLLIN, 0xb);
    MUST(write(fds[1], "v", 1) == 1);
    wait_show("last set: wait", fds[2], 8, 0);
    show("close_range(first, last, 0)", close_range(RANGE_BASE, RANGE_BASE + 4, 0));
    int open_count = 0;
    for (int i = 0; i < 5; i++)
        open_count += fcntl(fds[i], F_GETFD) >= 0;
    printf("still open: %d\n", open_count);
    wait_show_sorted("first set: wait", ep, 8, 0);
    reuse_number(RANGE_BASE + 2, t);
    ctl("ADD to the pipe under the last set's number", RANGE_BASE + 2, EPOLL_CTL_ADD, number, EPOLLIN, 0xc);
    close(t[0]);
    close(t[1]);

    printf("-- CLOSE_RANGE_UNSHARE in the only thread\n");
    int w[2];
    MUST(pipe2(w, O_NONBLOCK) == 0);
    int lone = epoll_create1(0);
    ctl("ADD a pipe to a new set data=0xd", lone, EPOLL_CTL_ADD, w[0], EPOLLIN, 0xd);
    MUST(write(w[1], "u", 1) == 1);
    wait_show("wait", lone, 8, 0);
    int w_number = w[0];
    show("close_range(pipe, pipe, UNSHARE)", close_range((unsigned)w_number, (unsigned)w_number, CLOSE_RANGE_UNSHARE));
    show_open("pipe's number open", w_number);
    wait_show("wait", lone, 8, 0);
    int lone_number = lone;
    show("close_range(set, set, UNSHARE)", close_range((unsigned)lone_number, (unsigned)lone_number, CLOSE_RANGE_UNSHARE));
    show_open("set's number open", lone_number);
    reuse_number(lone_number, t);
    ctl("ADD to the pipe under the set's number", lone_number, EPOLL_CTL_ADD, number, EPOLLIN, 0xe);
    close(t[0]);
    close(t[1]);
    close(w[1]);

    printf("-- CLOSE_RANGE_UNSHARE in a second thread\n");
    MUST(pipe2(w, O_NONBLOCK) == 0);
    ctl("ADD a pipe to the first set data=0xf", ep, EPOLL_CTL_ADD, w[0], EPOLLIN, 0xf);
    MUST(write(w[1], "s", 1) == 1);
    struct unsharer unsharer = { w[0], -2, -1 };
    pthread_t thread;
    MUST(pthread_create(&thread, NULL, close_unshared, &unsharer) == 0);
    MUST(pthread_join(thread, NULL) == 0);
    printf("second thread: close_range: %d, the fd open there afterwards: %s\n", unsharer.result, yes_no(unsharer.open_after));
    show_open("first thread: the fd open", w[0]);
    wait_show_sorted("first set: wait", ep, 8, 0);
    close(w[0]);
    close(w[1]);

    close(ep);
    close(other);
    close(number);
    close(r[1]);
    return 0;
}
