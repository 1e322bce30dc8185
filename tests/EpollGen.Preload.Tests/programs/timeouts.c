/*
 * Timeouts (epoll_wait(2)): 0 polls and returns at once; a finite timeout never returns early and
 * returns 0 when nothing came; any negative timeout waits without limit (checked by making another
 * thread write after 100ms, never by hanging); an event ends a finite wait early; epoll_pwait takes
 * the same milliseconds; epoll_pwait2 takes a timespec, NULL meaning no limit, {0, 0} an immediate
 * return, nanoseconds honoured, a 1ns timeout still ending (LTP epoll_pwait06), and tv_sec < 0 or
 * tv_nsec outside [0, 1e9) EINVAL (LTP epoll_pwait05).
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>

static int ep;
static int efd;

static void *signal_later(void *arg)
{
    sleep_ms(*(int *)arg);
    uint64_t one = 1;
    MUST(write(efd, &one, sizeof one) == sizeof one);
    return NULL;
}

static void reset(void)
{
    uint64_t count;
    while (read(efd, &count, sizeof count) > 0)
        ;
}

/*
 * Runs one wait while another thread writes the eventfd after delay_ms (no thread when delay_ms < 0),
 * and prints its result and that it took at least at_least ms (0: that it returned at once).
 */
static void timed(const char *label, int delay_ms, int at_least, int (*call)(void *), void *arg)
{
    reset();
    pthread_t writer;
    int64_t start = now_ms();
    if (delay_ms >= 0)
        MUST(pthread_create(&writer, NULL, signal_later, &delay_ms) == 0);
    errno = 0;
    int n = call(arg);
    int saved = errno;
    int64_t elapsed = now_ms() - start;
    if (delay_ms >= 0)
        MUST(pthread_join(writer, NULL) == 0);
    errno = saved;
    show(label, n);
    if (at_least == 0)
        show_immediate(label, elapsed);
    else
        show_elapsed(label, elapsed, at_least);
}

static int wait_ms(void *arg)
{
    struct epoll_event event;
    return epoll_wait(ep, &event, 1, *(int *)arg);
}

static int pwait_ms(void *arg)
{
    struct epoll_event event;
    return epoll_pwait(ep, &event, 1, *(int *)arg, NULL);
}

static int pwait2(void *arg)
{
    struct epoll_event event;
    return epoll_pwait2(ep, &event, 1, arg, NULL);
}

int main(void)
{
    transcript_start();
    MUST((efd = eventfd(0, EFD_NONBLOCK)) >= 0);
    MUST((ep = epoll_create1(0)) >= 0);
    ctl("ADD eventfd IN", ep, EPOLL_CTL_ADD, efd, EPOLLIN, 1);

    printf("-- epoll_wait\n");
    int zero = 0, fifty = 50, thousand = 1000, minus_one = -1, minus_seven = -7, big = 1500;
    timed("timeout 0, nothing ready", -1, 0, wait_ms, &zero);
    timed("timeout 50ms, nothing ready", -1, 50, wait_ms, &fifty);
    timed("timeout 1000ms, write after 100ms", 100, 100, wait_ms, &thousand);
    timed("timeout -1, write after 100ms", 100, 100, wait_ms, &minus_one);
    timed("timeout -7, write after 100ms", 100, 100, wait_ms, &minus_seven);
    timed("timeout 1500ms, write after 100ms", 100, 100, wait_ms, &big);

    printf("-- epoll_pwait, NULL mask\n");
    timed("timeout 0, nothing ready", -1, 0, pwait_ms, &zero);
    timed("timeout 50ms, nothing ready", -1, 50, pwait_ms, &fifty);
    timed("timeout -1, write after 100ms", 100, 100, pwait_ms, &minus_one);

    printf("-- epoll_pwait2\n");
    struct timespec immediate = { 0, 0 }, ns50ms = { 0, 50000000 }, one_ns = { 0, 1 };
    struct timespec one_s_and_a_bit = { 1, 1 }, wide = { 5, 0 };
    timed("{0, 0}, nothing ready", -1, 0, pwait2, &immediate);
    timed("{0, 50000000}, nothing ready", -1, 50, pwait2, &ns50ms);
    timed("{0, 1}, nothing ready", -1, 0, pwait2, &one_ns);
    timed("{1, 1}, write after 100ms", 100, 100, pwait2, &one_s_and_a_bit);
    timed("{5, 0}, write after 100ms", 100, 100, pwait2, &wide);
    timed("NULL, write after 100ms", 100, 100, pwait2, NULL);

    printf("-- epoll_pwait2, invalid timespec, nothing ready\n");
    struct timespec bad[] = { { 0, 1000000000 }, { 0, -1 }, { -1, 0 }, { -1, 500 } };
    const char *names[] = { "{0, 1000000000}", "{0, -1}", "{-1, 0}", "{-1, 500}" };
    reset();
    for (int i = 0; i < 4; i++) {
        struct epoll_event event;
        errno = 0;
        show(names[i], epoll_pwait2(ep, &event, 1, &bad[i], NULL));
    }
    printf("-- epoll_pwait2, invalid timespec, an event ready\n");
    uint64_t one = 1;
    MUST(write(efd, &one, sizeof one) == sizeof one);
    for (int i = 0; i < 4; i++) {
        struct epoll_event event;
        errno = 0;
        show(names[i], epoll_pwait2(ep, &event, 1, &bad[i], NULL));
    }
    close(ep);
    close(efd);
    return 0;
}
