/*
 * fork(2) and epoll (epoll(7) Q&A 6: a registration follows the open file, and a child's copies of
 * fds refer to the same open files). What is checked, in order:
 * 1. a child forked before the program's first epoll call creates a set of its own, registers a
 *    pipe, sees its event, and exits 0;
 * 2. after the parent has created a set with a registered, ready pipe, a child closes its inherited
 *    copy of the epoll fd and exits; the parent's set still reports the pipe;
 * 3. another child closes its inherited copy of the registered pipe fd and exits; the registration
 *    stays in the parent's set, because the parent's fd still refers to the file.
 * Children do nothing else with epoll: after fork only the forking thread exists in the child, and
 * a preloaded runtime's other threads are gone. Children leave with _exit, so no atexit handler of
 * the parent's runs twice.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>
#include <sys/wait.h>

static pid_t fork_flushed(void)
{
    /* A fork copies unwritten stdio buffers, which both processes would then print. */
    fflush(stdout);
    pid_t pid = fork();
    MUST(pid >= 0);
    if (pid == 0)
        alarm(10); /* pending alarms are not inherited */
    return pid;
}

static void reap(const char *label, pid_t pid)
{
    int status;
    MUST(waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status))
        printf("%s: exited %d\n", label, WEXITSTATUS(status));
    else
        printf("%s: killed by signal %d\n", label, WIFSIGNALED(status) ? WTERMSIG(status) : -1);
}

static void child_with_its_own_set(void)
{
    int p[2];
    if (pipe2(p, O_NONBLOCK) != 0)
        _exit(3);
    int ep = epoll_create1(0);
    show_fd("child: epoll_create1(0)", ep);
    ctl("child: ADD pipe IN data=0xc1", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xc1);
    if (write(p[1], "x", 1) != 1)
        _exit(3);
    int n = wait_show("child: wait up to 1000ms", ep, 8, 1000);
    fflush(stdout);
    _exit(n == 1 ? 0 : 1);
}

int main(void)
{
    transcript_start();

    printf("-- a child forked before any epoll call\n");
    pid_t pid = fork_flushed();
    if (pid == 0)
        child_with_its_own_set();
    reap("parent: the child", pid);

    printf("-- the parent's set\n");
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int ep = epoll_create1(0);
    show_fd("epoll_create1(0)", ep);
    ctl("ADD pipe IN data=0xf0", ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xf0);
    MUST(write(p[1], "x", 1) == 1);
    wait_show("wait", ep, 8, 0);

    printf("-- a child closes its copy of the epoll fd\n");
    pid = fork_flushed();
    if (pid == 0) {
        show("child: close the epoll fd", close(ep));
        fflush(stdout);
        _exit(0);
    }
    reap("parent: the child", pid);
    wait_show("parent: wait", ep, 8, 0);

    printf("-- a child closes its copy of the registered pipe fd\n");
    pid = fork_flushed();
    if (pid == 0) {
        show("child: close the pipe's read end", close(p[0]));
        fflush(stdout);
        _exit(0);
    }
    reap("parent: the child", pid);
    wait_show("parent: wait", ep, 8, 0);
    ctl("parent: MOD data=0xf1", ep, EPOLL_CTL_MOD, p[0], EPOLLIN, 0xf1);
    wait_show("parent: wait", ep, 8, 0);
    ctl("parent: DEL", ep, EPOLL_CTL_DEL, p[0], 0, 0);
    wait_show("parent: wait", ep, 8, 0);

    printf("-- the parent can still create sets\n");
    int other = epoll_create1(0);
    show_fd("epoll_create1(0)", other);
    ctl("ADD pipe IN data=0xf2", other, EPOLL_CTL_ADD, p[0], EPOLLIN, 0xf2);
    wait_show("wait", other, 8, 0);
    close(other);
    close(ep);
    close(p[0]);
    close(p[1]);
    return 0;
}
