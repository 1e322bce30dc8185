/*
 * A set created, not yet used, and shared by fork (fork(2): the child's fd refers to the same
 * open file, so parent and child share one epoll instance and one interest list): what the
 * child adds, the parent's wait reports, and what the parent adds after, the child's wait reports.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <sys/eventfd.h>
#include <sys/wait.h>

int main(void)
{
    alarm(20);
    setvbuf(stdout, NULL, _IONBF, 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int first = eventfd(1, EFD_CLOEXEC), second = eventfd(1, EFD_CLOEXEC);
    int to_child[2], to_parent[2];
    pipe(to_child);
    pipe(to_parent);
    char byte;

    pid_t child = fork();
    if (child == 0)
    {
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 }, out[4];
        printf("child: ADD the first eventfd: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, first, &ev));
        write(to_parent[1], "x", 1);
        read(to_child[0], &byte, 1);
        int n = epoll_wait(ep, out, 4, 1000);
        unsigned long long sum = 0;
        for (int i = 0; i < n; i++)
            sum += out[i].data.u64;
        printf("child: wait: %d, data sum %llu\n", n, sum);
        _exit(0);
    }
    read(to_parent[0], &byte, 1);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 2 }, out[4];
    int n = epoll_wait(ep, out, 4, 1000);
    printf("parent: wait after the child's ADD: %d data=%llu\n", n, n > 0 ? (unsigned long long)out[0].data.u64 : 0ULL);
    printf("parent: ADD the second eventfd: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, second, &ev));
    write(to_child[1], "x", 1);
    int status = 0;
    waitpid(child, &status, 0);
    printf("parent: child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
