/*
 * The smallest epoll user: one epoll_create1, then exit. run.sh times it with and without
 * LD_PRELOAD=libepollgen.so, so the difference is what the preload costs a process that starts,
 * creates one epoll instance and leaves (loading the library, starting its runtime, shutting down).
 */
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>

int main(void)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        perror("epoll_create1");
        return 1;
    }
    close(epfd);
    return 0;
}
