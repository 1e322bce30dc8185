/*
 * The preload's documented fork subset (docs/preload.md), which differs from Linux on purpose and
 * so is not a transcript: run only under LD_PRELOAD, and its output is compared with a fixed text.
 * After the parent's first epoll call the runtime has started; a child then must not run managed
 * code, so in the child:
 * 1. a call on a set inherited from the parent fails with ENOSYS (Linux would share the set);
 * 2. a new set is the kernel's own, and works;
 * 3. closing the inherited set's fd works and leaves the parent's set alone.
 * The parent's set still reports its pipe afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errno_name(int error)
{
    return error == ENOSYS ? "ENOSYS" : error == 0 ? "0" : strerror(error);
}

int main(void)
{
    alarm(20);
    int p[2];
    if (pipe(p) != 0)
        return 2;
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 }, out[2];
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) != 0 || write(p[1], "x", 1) != 1)
        return 3;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0)
    {
        errno = 0;
        int r = epoll_wait(ep, out, 2, 0);
        printf("child: wait on the inherited set: %d %s\n", r, errno_name(errno));
        errno = 0;
        r = epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
        printf("child: DEL on the inherited set: %d %s\n", r, errno_name(errno));
        int own = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event mine = { .events = EPOLLIN, .data.u64 = 2 };
        printf("child: own set: %s\n", own >= 0 && epoll_ctl(own, EPOLL_CTL_ADD, p[0], &mine) == 0 ? "yes" : "no");
        r = epoll_wait(own, out, 2, 1000);
        printf("child: own set reports: %d data=%llu\n", r, r > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
        printf("child: close the inherited set: %d\n", close(ep));
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 4;
    int r = epoll_wait(ep, out, 2, 1000);
    printf("parent: its set still reports: %d data=%llu\n", r, r > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
    return 0;
}
