/*
 * The chain workload of PreloadBench/chain.c (libevent's test/bench.c, written for EpollGen from
 * its description) dispatched by libev on its epoll backend, for the bench suite's comparison row.
 * Build: gcc -O2 chain_libev.c -lev
 *
 * One read watcher per pair. Per iteration, untimed: ev_io_stop + ev_io_start of every watcher and
 * one non-blocking loop pass (libev applies fd changes there, so the registrations are untimed as
 * in chain.c); timed: non-blocking passes (ev_run EVRUN_NOWAIT: one epoll_wait(0) and its
 * callbacks) until every byte sent has been read. libev has no edge-triggered watchers: -m et
 * exits 3 with a message, and the suite shows no libev row for ET.
 */
#include "chain_common.h"

#include <ev.h>

static struct chain_args args;
static struct chain_progress progress;
static int *read_end, *write_end;
static ev_io *watchers;

static void on_read(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    (void)revents;
    chain_on_readable(&args, &progress, (int)(w - watchers), w->fd, write_end);
}

static double run_once(struct ev_loop *loop, int first)
{
    for (int i = 0; i < args.pairs; i++) {
        if (!first)
            ev_io_stop(loop, &watchers[i]);
        ev_io_start(loop, &watchers[i]);
    }
    ev_run(loop, EVRUN_NOWAIT);

    chain_start(&args, &progress, write_end);
    long idle = 0;
    int64_t idle_since = 0, start = chain_now_ns();
    while (progress.received != progress.sent) {
        long before = progress.received;
        ev_run(loop, EVRUN_NOWAIT);
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
    if (args.edge) {
        fprintf(stderr, "chain: libev has no edge-triggered watchers\n");
        return 3;
    }
    chain_fit_fd_limit(args.pairs);
    chain_open_pairs(args.pairs, &read_end, &write_end);

    struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL);
    if (loop == NULL) {
        fprintf(stderr, "chain: ev_loop_new(EVBACKEND_EPOLL) failed\n");
        return 1;
    }
    watchers = malloc(sizeof(ev_io) * args.pairs);
    if (watchers == NULL)
        chain_die("malloc");
    for (int i = 0; i < args.pairs; i++)
        ev_io_init(&watchers[i], on_read, read_end[i], EV_READ);
    printf("config n=%d a=%d w=%d mode=lt iterations=%d library=libev-%d.%d backend=%s\n", args.pairs,
           args.active, args.writes, args.iterations, ev_version_major(), ev_version_minor(),
           ev_backend(loop) == EVBACKEND_EPOLL ? "epoll" : "other");

    double *us = malloc(sizeof(double) * args.iterations);
    if (us == NULL)
        chain_die("malloc");
    for (int i = 0; i < args.iterations; i++) {
        us[i] = run_once(loop, i == 0);
        if (progress.received != (long)args.active + args.writes) {
            fprintf(stderr, "chain: iteration %d read %ld bytes, expected %d\n", i + 1,
                    progress.received, args.active + args.writes);
            return 1;
        }
        printf("iteration=%d us=%.2f bytes=%ld\n", i + 1, us[i], progress.received);
    }
    chain_report(us, args.iterations);

    for (int i = 0; i < args.pairs; i++) {
        ev_io_stop(loop, &watchers[i]);
        close(read_end[i]);
        close(write_end[i]);
    }
    ev_loop_destroy(loop);
    free(watchers);
    free(us);
    return 0;
}
