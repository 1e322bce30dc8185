/*
 * The chain workload of libevent's test/bench.c, written for EpollGen from its description
 * (perf-anchors.md §1), in plain C over the epoll calls, so the same binary measures the kernel's
 * epoll and, under LD_PRELOAD=libepollgen.so, EpollGen's.
 *
 * n AF_UNIX socketpairs; the read end of each is watched for EPOLLIN. Per iteration, untimed:
 * EPOLL_CTL_DEL + EPOLL_CTL_ADD of every read end (bench.c re-adds its events every iteration),
 * one zero-timeout wait, then one byte sent into a pairs spaced n/a apart. Timed: zero-timeout
 * waits and their callbacks until every byte sent has been read. A callback reads one byte and,
 * while any of the w chained writes remain, sends one byte into the next pair (wrapping).
 *
 *   chain [-n pairs] [-a active] [-w writes] [-i iterations] [-m lt|et]
 *
 * lt (default): level-triggered, one byte per event, as bench.c. et: edge-triggered, each event
 * drains what piled up, 64 bytes a recv, to EAGAIN; every byte still makes one chained write, so
 * the bytes moved are the same. The command line, the sockets, the sends and receives, the stall
 * check and the summary are chain_common.h's, shared with the libevent and libev versions.
 *
 * Output, one line each, space-separated key=value:
 *   config n=100 a=100 w=1000 mode=lt iterations=25 maxevents=1024
 *   iteration=1 us=2214.31 waits=1101 events=1100 bytes=1100
 *   ...
 *   summary median_us=2172.40 min_us=2081.00 skipped=1
 * The summary's median and minimum leave out the first iteration (cold caches, first ADD).
 * Exits 1 with a message on stderr if a call fails or an iteration makes no progress for 10 s,
 * so a broken epoll under LD_PRELOAD is a failure, not a fast number.
 */
#include "chain_common.h"

#include <sys/epoll.h>

#define MAX_EVENTS 1024

struct iteration {
    double us;
    long waits, events;
};

static struct chain_args args;
static struct chain_progress progress;
static int *read_end, *write_end;
static int epfd;
static struct epoll_event events[MAX_EVENTS];

/* bench.c re-adds its events every iteration: DEL (after the first) and ADD of every read end,
 * then one zero-timeout wait, all untimed. */
static void register_all(int first)
{
    for (int i = 0; i < args.pairs; i++) {
        struct epoll_event ev = { .events = EPOLLIN | (args.edge ? EPOLLET : 0), .data.u64 = (uint64_t)i };
        if (!first && epoll_ctl(epfd, EPOLL_CTL_DEL, read_end[i], NULL) != 0)
            chain_die("epoll_ctl DEL");
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, read_end[i], &ev) != 0)
            chain_die("epoll_ctl ADD");
    }
    if (epoll_wait(epfd, events, MAX_EVENTS, 0) < 0)
        chain_die("epoll_wait");
}

static struct iteration run_once(int first)
{
    struct iteration it = { 0 };
    register_all(first);
    chain_start(&args, &progress, write_end);
    long idle = 0; /* empty waits in a row */
    int64_t idle_since = 0, start = chain_now_ns();
    while (progress.received != progress.sent) {
        int ready = epoll_wait(epfd, events, MAX_EVENTS, 0);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            chain_die("epoll_wait");
        }
        it.waits++;
        it.events += ready;
        for (int e = 0; e < ready; e++) {
            int index = (int)events[e].data.u64;
            chain_on_readable(&args, &progress, index, read_end[index], write_end);
        }
        if (ready > 0)
            idle = 0;
        else
            chain_check_stall(&progress, &idle, &idle_since);
    }
    it.us = (double)(chain_now_ns() - start) / 1000.0;
    return it;
}

int main(int argc, char **argv)
{
    args = chain_parse(argc, argv);
    chain_fit_fd_limit(args.pairs);
    chain_open_pairs(args.pairs, &read_end, &write_end);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        chain_die("epoll_create1");
    printf("config n=%d a=%d w=%d mode=%s iterations=%d maxevents=%d\n", args.pairs, args.active,
           args.writes, args.edge ? "et" : "lt", args.iterations, MAX_EVENTS);

    double *us = malloc(sizeof(double) * args.iterations);
    if (us == NULL)
        chain_die("malloc");
    for (int i = 0; i < args.iterations; i++) {
        struct iteration it = run_once(i == 0);
        if (progress.received != (long)args.active + args.writes) {
            fprintf(stderr, "chain: iteration %d read %ld bytes, expected %d\n", i + 1,
                    progress.received, args.active + args.writes);
            return 1;
        }
        us[i] = it.us;
        printf("iteration=%d us=%.2f waits=%ld events=%ld bytes=%ld\n", i + 1, it.us, it.waits,
               it.events, progress.received);
    }
    chain_report(us, args.iterations);

    for (int i = 0; i < args.pairs; i++) {
        close(read_end[i]);
        close(write_end[i]);
    }
    close(epfd);
    free(read_end);
    free(write_end);
    free(us);
    return 0;
}
