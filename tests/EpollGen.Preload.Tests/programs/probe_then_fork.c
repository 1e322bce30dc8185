/*
 * A program that probes for epoll (create a set, close it, use nothing), then forks a worker that
 * runs the event loop: the usual shape of a preforking server. What is checked, in order:
 * 1. the probe's create and close succeed;
 * 2. the child creates a set of its own, registers a pipe, and the set reports the write.
 * The pids go to stderr, for the test that checks which process started EpollGen's runtime
 * (PreloadStartTests); the transcript on stdout has none.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>
#include <sys/wait.h>

int main(void)
{
    transcript_start();
    int probe = epoll_create1(EPOLL_CLOEXEC);
    show_fd("parent: epoll_create1(EPOLL_CLOEXEC)", probe);
    show("parent: close it", close(probe));

    fflush(stdout);
    pid_t pid = fork();
    MUST(pid >= 0);
    if (pid == 0) {
        alarm(10); /* pending alarms are not inherited */
        int p[2];
        if (pipe2(p, O_NONBLOCK) != 0)
            _exit(3);
        int ep = epoll_create1(0);
        show_fd("child: epoll_create1(0)", ep);
        ctl("child: ADD pipe IN data=0xc1", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xc1);
        if (write(p[1], "x", 1) != 1)
            _exit(3);
        int n = wait_show("child: wait up to 1000ms", ep, 8, 1000);
        fprintf(stderr, "child pid %d\n", (int)getpid());
        fflush(stdout);
        _exit(n == 1 ? 0 : 1);
    }
    int status;
    MUST(waitpid(pid, &status, 0) == pid);
    printf("parent: the child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    fprintf(stderr, "parent pid %d\n", (int)getpid());
    return 0;
}
