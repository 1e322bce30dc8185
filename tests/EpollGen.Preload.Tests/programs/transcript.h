/*
 * Shared by the transcript programs. Each program prints what the epoll API answered, one line per
 * call, in a form that is the same on every run: return values, errno names, event masks in hex and
 * data values the program chose. No fd numbers, pids or times: the same text must come out against
 * the kernel and against libepollgen.so, whose fds and threads are its own business.
 */
#ifndef EPOLLGEN_TRANSCRIPT_H
#define EPOLLGEN_TRANSCRIPT_H

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* A hung wait must fail the run, not stall it: SIGALRM's default action kills with a nonzero status. */
static inline void transcript_start(void)
{
    alarm(20);
    /* Line-buffered even into a pipe, so a fork or a crash never repeats or loses a finished line. */
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline const char *errno_name(int e)
{
    switch (e) {
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EFAULT: return "EFAULT";
    case ELOOP: return "ELOOP";
    case EINTR: return "EINTR";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ENOSPC: return "ENOSPC";
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case ENOTSOCK: return "ENOTSOCK";
    case ESPIPE: return "ESPIPE";
    case ENOSYS: return "ENOSYS";
    default: {
        static char other[32];
        snprintf(other, sizeof other, "errno%d", e);
        return other;
    }
    }
}

/* A setup step that must work (pipe, write, thread start): failing it is a broken test, not a finding. */
#define MUST(expr)                                                                            \
    do {                                                                                      \
        if (!(expr)) {                                                                        \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr,            \
                    strerror(errno));                                                         \
            exit(2);                                                                          \
        }                                                                                     \
    } while (0)

/* "label: 0", or "label: -1 EINVAL". For calls whose success value is meaningful (counts, 0). */
static inline void show(const char *label, long result)
{
    int saved = errno;
    if (result < 0)
        printf("%s: %ld %s\n", label, result, errno_name(saved));
    else
        printf("%s: %ld\n", label, result);
}

/* "label: fd", or "label: -1 EINVAL". For calls that return a new fd, whose number is not printed. */
static inline void show_fd(const char *label, int fd)
{
    int saved = errno;
    if (fd < 0)
        printf("%s: -1 %s\n", label, errno_name(saved));
    else
        printf("%s: fd\n", label);
}

/* An epoll_ctl whose result is printed. */
static inline int ctl(const char *label, int ep, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    errno = 0;
    int r = epoll_ctl(ep, op, fd, &ev);
    show(label, r);
    return r;
}

/* An epoll_ctl that is setup, not the subject. */
static inline void ctl_must(int ep, int op, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    MUST(epoll_ctl(ep, op, fd, &ev) == 0);
}

static inline void show_events(const char *label, int n, const struct epoll_event *events)
{
    int saved = errno;
    if (n < 0) {
        printf("%s: -1 %s\n", label, errno_name(saved));
        return;
    }
    printf("%s: %d", label, n);
    for (int i = 0; i < n; i++)
        printf(" {0x%" PRIx32 " data=0x%" PRIx64 "}", events[i].events, events[i].data.u64);
    printf("\n");
}

/* epoll_wait into a fresh buffer, printing the count and every {mask data} pair in order. */
static inline int wait_show(const char *label, int ep, int maxevents, int timeout)
{
    struct epoll_event events[64];
    memset(events, 0, sizeof events);
    errno = 0;
    int n = epoll_wait(ep, events, maxevents, timeout);
    show_events(label, n, events);
    return n;
}

static inline int by_data(const void *a, const void *b)
{
    uint64_t x = ((const struct epoll_event *)a)->data.u64, y = ((const struct epoll_event *)b)->data.u64;
    return x < y ? -1 : x > y;
}

/*
 * Like wait_show, with the events sorted by data: for events that one wake-up readied together,
 * where the kernel's order follows its wait-queue internals and no man page promises one.
 */
static inline int wait_show_sorted(const char *label, int ep, int maxevents, int timeout)
{
    struct epoll_event events[64];
    memset(events, 0, sizeof events);
    errno = 0;
    int n = epoll_wait(ep, events, maxevents, timeout);
    if (n > 0)
        qsort(events, (size_t)n, sizeof events[0], by_data);
    show_events(label, n, events);
    return n;
}

static inline int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/*
 * A bounded duration, printed as facts that hold on every run: never shorter than asked, and not
 * absurdly longer (2 s covers a loaded two-core machine without letting "never returns" pass).
 */
static inline void show_elapsed(const char *label, int64_t elapsed, int at_least)
{
    printf("%s: elapsed>=%d %s, <2000ms %s\n", label, at_least, elapsed >= at_least ? "yes" : "no",
           elapsed < 2000 ? "yes" : "no");
}

/* For a zero timeout: returned at once, with room for a loaded machine but none for a real wait. */
static inline void show_immediate(const char *label, int64_t elapsed)
{
    printf("%s: returned at once (<500ms) %s\n", label, elapsed < 500 ? "yes" : "no");
}

static inline const char *yes_no(int condition)
{
    return condition ? "yes" : "no";
}

#endif
