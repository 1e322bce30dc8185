/*
 * What the chain workload's three C versions share: chain.c (over the epoll calls, so it also runs
 * under LD_PRELOAD=libepollgen.so) and the bench suite's chain_libevent.c and chain_libev.c. The
 * command line, the socketpairs, one-byte sends, receives (one byte in LT, draining in ET), the
 * clock, the stall check and the summary are here, so all three take the same options and print the
 * same lines, and the suite and PreloadBench/run.sh read them the same way:
 *
 *   config n=100 a=100 w=1000 mode=lt iterations=25 library=... backend=epoll
 *   iteration=1 us=2214.31 bytes=1100
 *   ...
 *   summary median_us=2172.40 min_us=2081.00 skipped=1
 *
 * The summary leaves out the first iteration (cold caches, first registration). A failed call or
 * an iteration that makes no progress for 10 s exits 1 with a message on stderr.
 */
#ifndef CHAIN_COMMON_H
#define CHAIN_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STALL_LIMIT_NS (10LL * 1000 * 1000 * 1000)

struct chain_args {
    int pairs, active, writes, iterations;
    int edge;
};

/* One iteration's progress, updated by the library's read callback. */
struct chain_progress {
    long sent, received, writes_left;
};

static void chain_die(const char *what)
{
    fprintf(stderr, "chain: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int64_t chain_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int chain_parse_count(const char *text, const char *name, int min)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min || v > 1000000000) {
        fprintf(stderr, "chain: %s must be an integer >= %d, got '%s'\n", name, min, text);
        exit(2);
    }
    return (int)v;
}

static struct chain_args chain_parse(int argc, char **argv)
{
    struct chain_args a = { .pairs = 100, .active = 1, .writes = 100, .iterations = 25 };
    int opt;
    while ((opt = getopt(argc, argv, "n:a:w:i:m:")) != -1) {
        switch (opt) {
        case 'n': a.pairs = chain_parse_count(optarg, "-n", 1); break;
        case 'a': a.active = chain_parse_count(optarg, "-a", 1); break;
        case 'w': a.writes = chain_parse_count(optarg, "-w", 0); break;
        case 'i': a.iterations = chain_parse_count(optarg, "-i", 2); break;
        case 'm':
            if (strcmp(optarg, "lt") == 0)
                a.edge = 0;
            else if (strcmp(optarg, "et") == 0)
                a.edge = 1;
            else {
                fprintf(stderr, "chain: -m takes lt or et, got '%s'\n", optarg);
                exit(2);
            }
            break;
        default:
            fprintf(stderr, "usage: %s [-n pairs] [-a active] [-w writes] [-i iterations] [-m lt|et]\n", argv[0]);
            exit(2);
        }
    }
    if (a.active > a.pairs) {
        fprintf(stderr, "chain: -a %d is more than -n %d pairs\n", a.active, a.pairs);
        exit(2);
    }
    return a;
}

/* 2n fds plus the library's own must fit under the soft limit; raising it to the hard limit needs
 * no privilege. */
static void chain_fit_fd_limit(int pairs)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)pairs * 2 + 16;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        chain_die("getrlimit");
    if (rl.rlim_cur >= need)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fprintf(stderr, "chain: %d pairs need %lu fds, the hard limit is %lu\n", pairs,
                (unsigned long)need, (unsigned long)rl.rlim_max);
        exit(2);
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        chain_die("setrlimit");
}

static void chain_open_pairs(int pairs, int **read_end, int **write_end)
{
    *read_end = malloc(sizeof(int) * pairs);
    *write_end = malloc(sizeof(int) * pairs);
    if (*read_end == NULL || *write_end == NULL)
        chain_die("malloc");
    for (int i = 0; i < pairs; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
            chain_die("socketpair");
        (*read_end)[i] = sv[0];
        (*write_end)[i] = sv[1];
    }
}

static void chain_send_byte(int fd)
{
    char b = 'e';
    if (send(fd, &b, 1, 0) != 1)
        chain_die("send");
}

/* Reads up to `most` bytes; returns how many, 0 when the socket is empty (an edge-triggered drain
 * always ends here). */
static int chain_recv_some(int fd, int most)
{
    char b[64];
    ssize_t got = recv(fd, b, (size_t)most, 0);
    if (got > 0)
        return (int)got;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (got == 0)
        errno = EPIPE;
    chain_die("recv");
    return 0;
}

/* What a read callback does with one readable pair: one byte when level-triggered (as bench.c),
 * everything that piled up, 64 bytes a recv, to EAGAIN when edge-triggered; each byte read sends
 * one of the chained writes that remain into the next pair, wrapping. */
static void chain_on_readable(const struct chain_args *a, struct chain_progress *p, int index,
                              int fd, const int *write_end)
{
    int got;
    do {
        got = chain_recv_some(fd, a->edge ? 64 : 1);
        for (int b = 0; b < got; b++) {
            p->received++;
            if (p->writes_left > 0) {
                chain_send_byte(write_end[index + 1 == a->pairs ? 0 : index + 1]);
                p->writes_left--;
                p->sent++;
            }
        }
    } while (a->edge && got > 0);
}

/* Sends the first byte into `active` pairs spaced n/a apart; the iteration's clock starts after. */
static void chain_start(const struct chain_args *a, struct chain_progress *p, const int *write_end)
{
    p->sent = p->received = 0;
    p->writes_left = a->writes;
    int space = a->pairs / a->active;
    for (int i = 0; i < a->active; i++, p->sent++)
        chain_send_byte(write_end[i * space]);
}

/* Called after each dispatch that read nothing: bytes are in flight, so 10 s of that is lost
 * readiness. The clock is read once per 4096 empty dispatches, so the check is free while events
 * flow. */
static void chain_check_stall(const struct chain_progress *p, long *idle, int64_t *idle_since)
{
    if ((++*idle & 4095) != 0)
        return;
    int64_t t = chain_now_ns();
    if (*idle == 4096)
        *idle_since = t;
    else if (t - *idle_since > STALL_LIMIT_NS) {
        fprintf(stderr, "chain: no event for 10 s with %ld of %ld bytes read\n", p->received, p->sent);
        exit(1);
    }
}

static int chain_compare_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Prints the summary of iterations 2..n (sorts them in place). */
static void chain_report(double *us, int iterations)
{
    qsort(us + 1, iterations - 1, sizeof(double), chain_compare_double);
    int kept = iterations - 1;
    double median = kept % 2 ? us[1 + kept / 2] : (us[kept / 2] + us[kept / 2 + 1]) / 2;
    printf("summary median_us=%.2f min_us=%.2f skipped=1\n", median, us[1]);
}

#endif
