/*
 * closefrom(3) over sets and registered fds, the way a program closes what it no longer needs:
 * everything from some number up. What is checked, in order:
 * 1. a set below the number, with a registered pipe below it too, goes on reporting afterwards,
 *    and takes new registrations (it lost nothing it needs);
 * 2. a registered pipe above the number leaves that set, and a set above it is gone: the set's
 *    number, given to a pipe, is not an epoll fd (EINVAL), and its nesting in the first set went
 *    with it;
 * 3. every fd the program opened above the number is closed;
 * 4. closing every number from there up to 1023 one by one, as programs that predate closefrom
 *    do, leaves the set working too.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>

static void show_open(const char *label, int fd)
{
    errno = 0;
    int r = fcntl(fd, F_GETFD);
    if (r >= 0)
        printf("%s: yes\n", label);
    else
        printf("%s: no %s\n", label, errno_name(errno));
}

int main(void)
{
    transcript_start();
    int ep = epoll_create1(0);
    show_fd("epoll_create1(0)", ep);
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    ctl("ADD pipe IN data=0x1", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x1);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("wait", ep, 8, 0);
    int low = (ep > p[1] ? ep : p[1]) + 1;

    printf("-- above the number\n");
    int q[2];
    MUST(pipe2(q, O_NONBLOCK) == 0);
    ctl("ADD a second pipe data=0x2", ep, EPOLL_CTL_ADD, q[0], EPOLLIN, 0x2);
    MUST(write(q[1], "y", 1) == 1);
    int inner = epoll_create1(EPOLL_CLOEXEC);
    show_fd("epoll_create1(EPOLL_CLOEXEC) inner", inner);
    ctl("ADD the first pipe to inner data=0x3", inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x3);
    ctl("ADD inner to the set data=0x4", ep, EPOLL_CTL_ADD, inner, EPOLLIN, 0x4);
    wait_show_sorted("wait", ep, 8, 0);
    int above[3] = { q[0], q[1], inner };
    int inner_number = inner;

    printf("-- closefrom\n");
    closefrom(low);
    int still_open = 0;
    for (int i = 0; i < 3; i++)
        still_open += fcntl(above[i], F_GETFD) >= 0;
    printf("open above the number: %d\n", still_open);
    show_open("set open", ep);
    show_open("pipe open", p[0]);
    wait_show("wait", ep, 8, 0);

    printf("-- afterwards\n");
    int r[2];
    MUST(pipe2(r, O_NONBLOCK) == 0);
    if (r[0] != inner_number) {
        if (r[1] == inner_number) {
            int moved = fcntl(r[1], F_DUPFD, inner_number + 1);
            MUST(moved >= 0);
            close(r[1]);
            r[1] = moved;
        }
        int moved = fcntl(r[0], F_DUPFD, inner_number);
        MUST(moved == inner_number);
        close(r[0]);
        r[0] = moved;
    }
    ctl("ADD to the pipe under inner's number", inner_number, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x5);
    wait_show("wait on the pipe under inner's number", inner_number, 8, 0);
    ctl("ADD that pipe to the set data=0x6", ep, EPOLL_CTL_ADD, r[0], EPOLLIN, 0x6);
    MUST(write(r[1], "z", 1) == 1);
    wait_show_sorted("wait", ep, 8, 0);
    int other = epoll_create1(0);
    show_fd("epoll_create1(0) afterwards", other);
    ctl("ADD the first pipe data=0x7", other, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x7);
    wait_show("its wait", other, 8, 100);

    printf("-- close(2) on every number above, by hand\n");
    int closed = 0;
    for (int fd = low; fd < 1024; fd++)
        closed += close(fd) == 0;
    printf("closed: %d\n", closed);
    MUST(pipe2(r, O_NONBLOCK) == 0);
    ctl("ADD a new pipe data=0x8", ep, EPOLL_CTL_ADD, r[0], EPOLLIN, 0x8);
    MUST(write(r[1], "w", 1) == 1);
    wait_show_sorted("wait", ep, 8, 0);
    close(r[0]);
    close(r[1]);
    close(ep);
    close(p[0]);
    close(p[1]);
    return 0;
}
