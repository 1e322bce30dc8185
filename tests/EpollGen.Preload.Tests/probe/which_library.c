/*
 * Prints, for each function libepollgen.so replaces, the file its definition was found in, e.g.
 * "epoll_create1 libc.so.6". Run plainly every line names libc; under LD_PRELOAD every line must name
 * the preloaded library. The transcript programs cannot show this themselves: they must print the
 * same text either way. One epoll_create1 call first, as a program's first call would be.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static const char *const replaced[] = {
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "close", "close_range", "closefrom", "dup", "dup2", "dup3", "fcntl",
};

int main(void)
{
    alarm(20);
    int ep = epoll_create1(0);
    printf("epoll_create1(0) succeeded: %s\n", ep >= 0 ? "yes" : "no");
    for (size_t i = 0; i < sizeof replaced / sizeof replaced[0]; i++) {
        /* RTLD_DEFAULT searches in the order calls bind, preloaded objects first. */
        void *address = dlsym(RTLD_DEFAULT, replaced[i]);
        Dl_info info;
        if (address == NULL || dladdr(address, &info) == 0 || info.dli_fname == NULL) {
            printf("%s (not found)\n", replaced[i]);
            continue;
        }
        const char *slash = strrchr(info.dli_fname, '/');
        printf("%s %s\n", replaced[i], slash != NULL ? slash + 1 : info.dli_fname);
    }
    if (ep >= 0)
        close(ep);
    return 0;
}
