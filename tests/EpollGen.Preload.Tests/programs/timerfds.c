/*
 * timerfds: IN once the timer has expired and until its count is read; a wait with a timer as the
 * only source returns when it fires, not before; disarming an expired, unread timer clears the
 * count, and the harvest re-reads readiness so the stale expiry is not reported; ET reports each
 * expiry of a periodic timer that follows a read of its count, and none while the count is unread.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <sys/timerfd.h>

static void arm(int t, long first_ms, long interval_ms)
{
    struct itimerspec spec = {
        .it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
        .it_value = { first_ms / 1000, (first_ms % 1000) * 1000000L },
    };
    MUST(timerfd_settime(t, 0, &spec, NULL) == 0);
}

static uint64_t expirations(int t)
{
    uint64_t count = 0;
    if (read(t, &count, sizeof count) != sizeof count)
        return 0;
    return count;
}

static void one_shot(void)
{
    printf("-- one-shot timer\n");
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    MUST(t >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN data=0x71", ep, EPOLL_CTL_ADD, t, EPOLLIN, 0x71);
    wait_show("not armed", ep, 8, 0);
    int64_t start = now_ms();
    arm(t, 60, 0);
    wait_show("armed for 60ms, wait up to 5000ms", ep, 8, 5000);
    show_elapsed("fired", now_ms() - start, 60);
    wait_show("unread, level-triggered", ep, 8, 0);
    printf("expirations: %" PRIu64 "\n", expirations(t));
    wait_show("read", ep, 8, 0);
    close(t);
    close(ep);
}

static void disarmed_after_expiry(void)
{
    printf("-- an expired timer disarmed before the wait\n");
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    MUST(t >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN data=0x72", ep, EPOLL_CTL_ADD, t, EPOLLIN, 0x72);
    arm(t, 1, 0);
    sleep_ms(30);
    arm(t, 0, 0);
    wait_show("expired then disarmed", ep, 8, 0);
    printf("expirations: %" PRIu64 "\n", expirations(t));
    close(t);
    close(ep);
}

static void absolute_in_the_past(void)
{
    printf("-- an absolute time already past fires at once\n");
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    MUST(t >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN data=0x73", ep, EPOLL_CTL_ADD, t, EPOLLIN, 0x73);
    struct itimerspec spec = { .it_value = { 0, 1 } };
    MUST(timerfd_settime(t, TFD_TIMER_ABSTIME, &spec, NULL) == 0);
    wait_show("wait up to 5000ms", ep, 8, 5000);
    printf("expirations: %" PRIu64 "\n", expirations(t));
    close(t);
    close(ep);
}

static void periodic_edge(void)
{
    printf("-- periodic timer, ET\n");
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    MUST(t >= 0);
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    ctl("ADD IN|ET data=0x74", ep, EPOLL_CTL_ADD, t, EPOLLIN | EPOLLET, 0x74);
    arm(t, 20, 20);
    wait_show("first expiry", ep, 8, 5000);
    /* The kernel re-arms a periodic timer when its count is read, so unread periods wake no one. */
    int64_t start = now_ms();
    wait_show("count unread, wait 200ms", ep, 8, 200);
    show_elapsed("no new edge", now_ms() - start, 200);
    printf("expirations >= 5: %s\n", yes_no(expirations(t) >= 5));
    wait_show("after the read, the next period", ep, 8, 5000);
    arm(t, 0, 0);
    wait_show("stopped, settime 0 clears the count", ep, 8, 0);
    close(t);
    close(ep);
}

int main(void)
{
    transcript_start();
    one_shot();
    disarmed_after_expiry();
    absolute_in_the_past();
    periodic_edge();
    return 0;
}
