/*
 * Holds N idle HTTP keep-alive connections open against a server, the background load of
 * nginx.sh: a server whose epoll set holds thousands of idle clients while it serves others.
 *
 * Opens the connections one at a time (a blocking connect, one "GET path HTTP/1.1" request, its
 * whole 200 response read), so none waits in a full listen backlog; then prints "holding N" and
 * sleeps until SIGTERM or SIGINT. Before exiting it checks, without blocking, that the server
 * closed none of them meanwhile, and exits 1 if it did, so a benchmark never reports a run whose
 * idle load went away (a keepalive_timeout too short, a server that dropped them).
 *
 * Usage: idle_holder -p PORT -n N [-a ADDRESS] [-u PATH]
 * Exit status: 0 held all N to the end; 1 a connection failed or was closed; 2 bad usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) { (void)sig; stop_requested = 1; }

static void usage(void) {
    fprintf(stderr, "usage: idle_holder -p PORT -n N [-a ADDRESS] [-u PATH]\n");
    exit(2);
}

/* Room for N connections plus stdio and slack, within the hard limit. */
static void raise_fd_limit(long n) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) { perror("getrlimit"); exit(1); }
    rlim_t want = (rlim_t)n + 64;
    if (limit.rlim_cur >= want) return;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < want) {
        fprintf(stderr, "idle_holder: %ld connections need %lu fds, the hard limit is %lu\n",
                n, (unsigned long)want, (unsigned long)limit.rlim_max);
        exit(1);
    }
    limit.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) { perror("setrlimit"); exit(1); }
}

/* Reads one response to its end: the headers, then Content-Length bytes of body. */
static int read_response(int fd, long index) {
    char buf[8192];
    size_t have = 0;
    char *body = NULL;
    long length = -1;
    for (;;) {
        if (have == sizeof buf) {
            fprintf(stderr, "idle_holder: connection %ld: response larger than %zu bytes\n", index, sizeof buf);
            return -1;
        }
        ssize_t got = recv(fd, buf + have, sizeof buf - have, 0);
        if (got <= 0) {
            fprintf(stderr, "idle_holder: connection %ld: %s before the whole response\n", index,
                    got == 0 ? "closed by the server" : strerror(errno));
            return -1;
        }
        have += (size_t)got;
        if (!body) {
            char *end = memmem(buf, have, "\r\n\r\n", 4);
            if (!end) continue;
            body = end + 4;
            if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0) {
                fprintf(stderr, "idle_holder: connection %ld: %.*s\n", index, (int)(strchr(buf, '\r') - buf), buf);
                return -1;
            }
            char *field = memmem(buf, (size_t)(end - buf), "\r\nContent-Length: ", 18);
            if (!field) {
                fprintf(stderr, "idle_holder: connection %ld: no Content-Length\n", index);
                return -1;
            }
            length = strtol(field + 18, NULL, 10);
        }
        if ((long)(buf + have - body) >= length) return 0;
    }
}

int main(int argc, char **argv) {
    const char *address = "127.0.0.1", *path = "/page.html";
    long port = -1, n = -1;
    int opt;
    while ((opt = getopt(argc, argv, "p:n:a:u:")) != -1) {
        switch (opt) {
        case 'p': port = strtol(optarg, NULL, 10); break;
        case 'n': n = strtol(optarg, NULL, 10); break;
        case 'a': address = optarg; break;
        case 'u': path = optarg; break;
        default: usage();
        }
    }
    if (port <= 0 || port > 65535 || n < 0 || optind != argc) usage();
    raise_fd_limit(n);

    struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, address, &server.sin_addr) != 1) usage();
    char request[512];
    int request_length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, address);

    int *fds = calloc((size_t)n + 1, sizeof *fds);
    if (!fds) { perror("calloc"); return 1; }
    for (long i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[i] < 0) { perror("socket"); return 1; }
        if (connect(fds[i], (struct sockaddr *)&server, sizeof server) != 0) {
            fprintf(stderr, "idle_holder: connection %ld: connect: %s\n", i, strerror(errno));
            return 1;
        }
        if (send(fds[i], request, (size_t)request_length, MSG_NOSIGNAL) != request_length) {
            fprintf(stderr, "idle_holder: connection %ld: send: %s\n", i, strerror(errno));
            return 1;
        }
        if (read_response(fds[i], i) != 0) return 1;
    }

    /* The handlers go in before the announcement, since the caller may signal as soon as it reads
     * it; the signals stay blocked but inside sigsuspend, so one cannot land between the flag's
     * test and the sleep. */
    sigset_t stops, during_wait;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGINT);
    sigprocmask(SIG_BLOCK, &stops, &during_wait);
    sigdelset(&during_wait, SIGTERM);
    sigdelset(&during_wait, SIGINT);
    struct sigaction action = { .sa_handler = on_stop };
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    printf("holding %ld\n", n);
    fflush(stdout);
    while (!stop_requested) sigsuspend(&during_wait);

    long closed = 0;
    for (long i = 0; i < n; i++) {
        char byte;
        ssize_t got = recv(fds[i], &byte, 1, MSG_DONTWAIT);
        if (!(got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))) closed++;
    }
    if (closed) {
        fprintf(stderr, "idle_holder: the server closed (or wrote to) %ld of %ld idle connections\n", closed, n);
        return 1;
    }
    return 0;
}
