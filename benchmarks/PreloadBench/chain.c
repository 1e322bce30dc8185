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
 * reads to EAGAIN; every byte still makes one chained write, so the bytes moved are the same.
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
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 1024
#define STALL_LIMIT_NS (10LL * 1000 * 1000 * 1000)

struct chain {
    int pairs, active, writes;
    int edge;
    int *read_end;  /* read_end[i] is watched; write_end[i] feeds it */
    int *write_end;
    int epfd;
    struct epoll_event events[MAX_EVENTS];
};

struct iteration {
    double us;
    long waits, events, bytes;
};

static void die(const char *what)
{
    fprintf(stderr, "chain: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int parse_count(const char *text, const char *name, int min)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min || v > 1000000000) {
        fprintf(stderr, "chain: %s must be an integer >= %d, got '%s'\n", name, min, text);
        exit(2);
    }
    return (int)v;
}

/* The soft fd limit may sit below the hard one; 2n + a few fds must fit. Raising the soft limit
 * needs no privilege, the hard one does (and is 20000 on the project VM: n <= 9975). */
static void fit_fd_limit(int pairs)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)pairs * 2 + 16;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("getrlimit");
    if (rl.rlim_cur >= need)
        return;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fprintf(stderr, "chain: %d pairs need %lu fds, the hard limit is %lu\n", pairs,
                (unsigned long)need, (unsigned long)rl.rlim_max);
        exit(2);
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        die("setrlimit");
}

static void open_pairs(struct chain *c)
{
    c->read_end = malloc(sizeof(int) * c->pairs);
    c->write_end = malloc(sizeof(int) * c->pairs);
    if (c->read_end == NULL || c->write_end == NULL)
        die("malloc");
    for (int i = 0; i < c->pairs; i++) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
            die("socketpair");
        c->read_end[i] = sv[0];
        c->write_end[i] = sv[1];
    }
    c->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (c->epfd < 0)
        die("epoll_create1");
}

static void close_pairs(struct chain *c)
{
    for (int i = 0; i < c->pairs; i++) {
        close(c->read_end[i]);
        close(c->write_end[i]);
    }
    close(c->epfd);
    free(c->read_end);
    free(c->write_end);
}

static void send_byte(int fd)
{
    char b = 'e';
    if (send(fd, &b, 1, 0) != 1)
        die("send");
}

/* Reads up to `most` bytes; returns how many, 0 when the socket is empty (a level-triggered event
 * can be stale only if the epoll under test is wrong, an edge-triggered drain always ends here). */
static int recv_some(int fd, int most)
{
    char b[64];
    ssize_t got = recv(fd, b, (size_t)most, 0);
    if (got > 0)
        return (int)got;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (got == 0)
        errno = EPIPE;
    die("recv");
    return 0;
}

static void register_all(struct chain *c, int first)
{
    for (int i = 0; i < c->pairs; i++) {
        struct epoll_event ev = { .events = EPOLLIN | (c->edge ? EPOLLET : 0), .data.u64 = (uint64_t)i };
        if (!first && epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->read_end[i], NULL) != 0)
            die("epoll_ctl DEL");
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->read_end[i], &ev) != 0)
            die("epoll_ctl ADD");
    }
    if (epoll_wait(c->epfd, c->events, MAX_EVENTS, 0) < 0)
        die("epoll_wait");
}

static struct iteration run_once(struct chain *c, int first)
{
    struct iteration it = { 0 };
    register_all(c, first);

    long sent = 0, received = 0, writes_left = c->writes;
    int space = c->pairs / c->active;
    for (int i = 0; i < c->active; i++, sent++)
        send_byte(c->write_end[i * space]);

    long idle = 0;  /* empty waits in a row */
    int64_t start = now_ns(), idle_since = 0;
    while (received != sent) {
        int ready = epoll_wait(c->epfd, c->events, MAX_EVENTS, 0);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        it.waits++;
        it.events += ready;
        for (int e = 0; e < ready; e++) {
            int idx = (int)c->events[e].data.u64;
            /* LT reads one byte per event, as bench.c; ET drains what piled up, 64 bytes a recv,
             * to EAGAIN. Each byte read sends one of the chained writes left into the next pair. */
            int got;
            do {
                got = recv_some(c->read_end[idx], c->edge ? 64 : 1);
                for (int b = 0; b < got; b++) {
                    received++;
                    if (writes_left > 0) {
                        send_byte(c->write_end[idx + 1 == c->pairs ? 0 : idx + 1]);
                        writes_left--;
                        sent++;
                    }
                }
            } while (c->edge && got > 0);
        }
        /* Bytes are in flight, so a long run of empty waits means lost readiness. The clock is
         * read once per 4096 empty waits, so the check costs nothing while events flow. */
        if (ready > 0) {
            idle = 0;
        } else if ((++idle & 4095) == 0) {
            int64_t t = now_ns();
            if (idle == 4096)
                idle_since = t;
            else if (t - idle_since > STALL_LIMIT_NS) {
                fprintf(stderr, "chain: no event for 10 s with %ld of %ld bytes read\n", received, sent);
                exit(1);
            }
        }
    }
    it.us = (double)(now_ns() - start) / 1000.0;
    it.bytes = received;
    return it;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    struct chain c = { .pairs = 100, .active = 1, .writes = 100 };
    int iterations = 25;
    int opt;
    while ((opt = getopt(argc, argv, "n:a:w:i:m:")) != -1) {
        switch (opt) {
        case 'n': c.pairs = parse_count(optarg, "-n", 1); break;
        case 'a': c.active = parse_count(optarg, "-a", 1); break;
        case 'w': c.writes = parse_count(optarg, "-w", 0); break;
        case 'i': iterations = parse_count(optarg, "-i", 2); break;
        case 'm':
            if (strcmp(optarg, "lt") == 0)
                c.edge = 0;
            else if (strcmp(optarg, "et") == 0)
                c.edge = 1;
            else {
                fprintf(stderr, "chain: -m takes lt or et, got '%s'\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: chain [-n pairs] [-a active] [-w writes] [-i iterations] [-m lt|et]\n");
            return 2;
        }
    }
    if (c.active > c.pairs) {
        fprintf(stderr, "chain: -a %d is more than -n %d pairs\n", c.active, c.pairs);
        return 2;
    }

    fit_fd_limit(c.pairs);
    open_pairs(&c);
    printf("config n=%d a=%d w=%d mode=%s iterations=%d maxevents=%d\n", c.pairs, c.active,
           c.writes, c.edge ? "et" : "lt", iterations, MAX_EVENTS);

    double *us = malloc(sizeof(double) * iterations);
    if (us == NULL)
        die("malloc");
    for (int i = 0; i < iterations; i++) {
        struct iteration it = run_once(&c, i == 0);
        if (it.bytes != (long)c.active + c.writes) {
            fprintf(stderr, "chain: iteration %d read %ld bytes, expected %d\n", i + 1, it.bytes,
                    c.active + c.writes);
            return 1;
        }
        us[i] = it.us;
        printf("iteration=%d us=%.2f waits=%ld events=%ld bytes=%ld\n", i + 1, it.us, it.waits,
               it.events, it.bytes);
    }
    close_pairs(&c);

    qsort(us + 1, iterations - 1, sizeof(double), compare_double);
    int kept = iterations - 1;
    double median = kept % 2 ? us[1 + kept / 2] : (us[kept / 2] + us[kept / 2 + 1]) / 2;
    printf("summary median_us=%.2f min_us=%.2f skipped=1\n", median, us[1]);
    free(us);
    return 0;
}
