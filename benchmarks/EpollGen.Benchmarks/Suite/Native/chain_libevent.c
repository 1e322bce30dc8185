/*
 * The chain workload of PreloadBench/chain.c (libevent's test/bench.c, written for EpollGen from
 * its description) dispatched by libevent 2 instead of raw epoll calls, for the bench suite's
 * comparison row. Build: gcc -O2 chain_libevent.c -levent
 *
 * One persistent read event per pair. Per iteration, untimed: event_del + event_add of every event
 * (as bench.c re-adds its events) and one non-blocking loop pass; timed: non-blocking loop passes
 * (EVLOOP_ONCE | EVLOOP_NONBLOCK: one epoll_wait(0) and its callbacks) until every byte sent has
 * been read. -m et adds EV_ET, and the callback reads to EAGAIN.
 */
#include "chain_common.h"

#include <event2/event.h>

static struct chain_args args;
static struct chain_progress progress;
static int *read_end, *write_end;

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    chain_on_readable(&args, &progress, (int)(intptr_t)arg, fd, write_end);
}

static double run_once(struct event_base *base, struct event **events, int first)
{
    for (int i = 0; i < args.pairs; i++) {
        if (!first && event_del(events[i]) != 0)
            chain_die("event_del");
        if (event_add(events[i], NULL) != 0)
            chain_die("event_add");
    }
    if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
        chain_die("event_base_loop");

    chain_start(&args, &progress, write_end);
    long idle = 0;
    int64_t idle_since = 0, start = chain_now_ns();
    while (progress.received != progress.sent) {
        long before = progress.received;
        if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
            chain_die("event_base_loop");
        if (progress.received != before)
            idle = 0;
        else
            chain_check_stall(&progress, &idle, &idle_since);
    }
    return (double)(chain_now_ns() - start) / 1000.0;
}

int main(int argc, char **argv)
{
    args = chain_parse(argc, argv);
    chain_fit_fd_limit(args.pairs);
    chain_open_pairs(args.pairs, &read_end, &write_end);

    struct event_base *base = event_base_new();
    if (base == NULL)
        chain_die("event_base_new");
    struct event **events = malloc(sizeof(struct event *) * args.pairs);
    if (events == NULL)
        chain_die("malloc");
    short what = EV_READ | EV_PERSIST | (args.edge ? EV_ET : 0);
    for (int i = 0; i < args.pairs; i++) {
        events[i] = event_new(base, read_end[i], what, on_read, (void *)(intptr_t)i);
        if (events[i] == NULL)
            chain_die("event_new");
    }
    printf("config n=%d a=%d w=%d mode=%s iterations=%d library=libevent-%s backend=%s\n", args.pairs,
           args.active, args.writes, args.edge ? "et" : "lt", args.iterations, event_get_version(),
           event_base_get_method(base));

    double *us = malloc(sizeof(double) * args.iterations);
    if (us == NULL)
        chain_die("malloc");
    for (int i = 0; i < args.iterations; i++) {
        us[i] = run_once(base, events, i == 0);
        if (progress.received != (long)args.active + args.writes) {
            fprintf(stderr, "chain: iteration %d read %ld bytes, expected %d\n", i + 1,
                    progress.received, args.active + args.writes);
            return 1;
        }
        printf("iteration=%d us=%.2f bytes=%ld\n", i + 1, us[i], progress.received);
    }
    chain_report(us, args.iterations);

    for (int i = 0; i < args.pairs; i++) {
        event_free(events[i]);
        close(read_end[i]);
        close(write_end[i]);
    }
    event_base_free(base);
    free(events);
    free(us);
    return 0;
}
