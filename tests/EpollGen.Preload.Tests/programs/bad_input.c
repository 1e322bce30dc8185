/*
 * Every error of the epoll calls that a program can provoke on purpose (epoll_create(2),
 * epoll_ctl(2), epoll_wait(2); check order from fs/eventpoll.c as described in
 * linux-epoll-semantics.md 1.2-1.4), one fault per call plus a few pairs that show the order:
 * - EINVAL for bad sizes and flags;
 * - EFAULT for an unreadable event (checked before EBADF);
 * - EBADF for unused, negative and O_PATH fds;
 * - EPERM for files that cannot be polled (checked before "epfd is not an epoll fd");
 * - EINVAL for a non-epoll epfd, a set inside itself and unknown ops;
 * - EEXIST and ENOENT;
 * - EINVAL for maxevents out of range;
 * - EFAULT for an unusable buffer, with the event kept for the next wait (a NULL buffer passes the
 *   range check and faults only when there is an event to copy);
 * - EMFILE at the fd limit.
 * Unknown event bits are accepted, and all 256 combinations of the common bits MOD fine (LTP
 * epoll_ctl03).
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>

static void create(void)
{
    printf("-- epoll_create, epoll_create1\n");
    int r;
    errno = 0;
    show_fd("epoll_create(0)", r = epoll_create(0));
    errno = 0;
    show_fd("epoll_create(-1)", r = epoll_create(-1));
    errno = 0;
    show_fd("epoll_create(INT_MAX)", r = epoll_create(INT_MAX));
    close(r);
    errno = 0;
    show_fd("epoll_create1(-1)", r = epoll_create1(-1));
    errno = 0;
    show_fd("epoll_create1(EPOLL_CLOEXEC + 1)", r = epoll_create1(EPOLL_CLOEXEC + 1));
    errno = 0;
    show_fd("epoll_create1(0x800, the old EPOLL_NONBLOCK)", r = epoll_create1(0x800));
    errno = 0;
    show_fd("epoll_create1(O_NONBLOCK)", r = epoll_create1(O_NONBLOCK));
}

/*
 * A number no fd uses. Not a freshly unused fd: the next open would take that number back, and the
 * runtime behind a preloaded library may open files at any moment.
 */
static int unused_fd(void)
{
    int fd = 900;
    MUST(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
    return fd;
}

static int raw_ctl(int ep, int op, int fd, struct epoll_event *event)
{
    errno = 0;
    return epoll_ctl(ep, op, fd, event);
}

static void control(void)
{
    printf("-- epoll_ctl\n");
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int unused = unused_fd();
    char path[] = "/tmp/epollgen-bad-input-XXXXXX";
    int file = mkstemp(path);
    MUST(file >= 0);
    unlink(path);
    int dir = open("/", O_RDONLY | O_DIRECTORY);
    MUST(dir >= 0);
    int zero = open("/dev/zero", O_RDONLY);
    MUST(zero >= 0);
    int opath = open("/dev/null", O_PATH);
    MUST(opath >= 0);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };

    show("ADD, NULL event", raw_ctl(ep, EPOLL_CTL_ADD, p[0], NULL));
    show("MOD, NULL event", raw_ctl(ep, EPOLL_CTL_MOD, p[0], NULL));
    show("op 0, NULL event", raw_ctl(ep, 0, p[0], NULL));
    show("ADD, NULL event, unused epfd", raw_ctl(unused, EPOLL_CTL_ADD, p[0], NULL));
    show("ADD, event at a kernel address", raw_ctl(ep, EPOLL_CTL_ADD, p[0], (struct epoll_event *)-4096L));
    show("DEL, NULL event, fd not registered", raw_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
    show("ADD, unused epfd", raw_ctl(unused, EPOLL_CTL_ADD, p[0], &ev));
    show("ADD, epfd -1", raw_ctl(-1, EPOLL_CTL_ADD, p[0], &ev));
    show("ADD, fd -1", raw_ctl(ep, EPOLL_CTL_ADD, -1, &ev));
    show("ADD, unused fd", raw_ctl(ep, EPOLL_CTL_ADD, unused, &ev));
    show("ADD, O_PATH fd", raw_ctl(ep, EPOLL_CTL_ADD, opath, &ev));
    show("ADD, O_PATH epfd", raw_ctl(opath, EPOLL_CTL_ADD, p[0], &ev));
    show("ADD, unused epfd and unused fd", raw_ctl(unused, EPOLL_CTL_ADD, unused, &ev));
    show("ADD, regular file", raw_ctl(ep, EPOLL_CTL_ADD, file, &ev));
    show("ADD, directory", raw_ctl(ep, EPOLL_CTL_ADD, dir, &ev));
    show("ADD, /dev/zero", raw_ctl(ep, EPOLL_CTL_ADD, zero, &ev));
    show("DEL, regular file", raw_ctl(ep, EPOLL_CTL_DEL, file, NULL));
    show("ADD, epfd is a pipe, fd a regular file", raw_ctl(p[0], EPOLL_CTL_ADD, file, &ev));
    show("ADD, epfd is a pipe", raw_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
    show("ADD, epfd is a regular file", raw_ctl(file, EPOLL_CTL_ADD, p[0], &ev));
    show("ADD, epfd into itself", raw_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    show("op -1", raw_ctl(ep, -1, p[0], &ev));
    show("op 0", raw_ctl(ep, 0, p[0], &ev));
    show("op 4", raw_ctl(ep, 4, p[0], &ev));
    show("MOD, not registered", raw_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    show("DEL, not registered", raw_ctl(ep, EPOLL_CTL_DEL, p[0], &ev));
    show("ADD", raw_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    show("ADD again", raw_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    show("op -1 on a registered fd", raw_ctl(ep, -1, p[0], &ev));
    show("DEL, NULL event", raw_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));

    struct epoll_event odd = { .events = EPOLLIN | 0x00800000 | EPOLLMSG, .data.u64 = 2 };
    show("ADD with unknown bit 0x00800000 and EPOLLMSG", raw_ctl(ep, EPOLL_CTL_ADD, p[0], &odd));
    MUST(write(p[1], "x", 1) == 1);
    wait_show("reported", ep, 8, 0);
    int accepted = 0;
    static const uint32_t bits[] = { EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT, EPOLLRDHUP };
    for (int combination = 0; combination < 256; combination++) {
        struct epoll_event mod = { .data.u64 = (uint64_t)combination };
        for (int b = 0; b < 8; b++)
            if (combination & (1 << b))
                mod.events |= bits[b];
        accepted += epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &mod) == 0;
    }
    printf("MOD with each of the 256 combinations of IN OUT PRI ERR HUP ET ONESHOT RDHUP: %d accepted\n", accepted);
    struct epoll_event wakeup = { .events = EPOLLIN | EPOLLWAKEUP, .data.u64 = 3 };
    show("MOD IN|WAKEUP (cleared or kept, never an error)", raw_ctl(ep, EPOLL_CTL_MOD, p[0], &wakeup));
    wait_show("WAKEUP is never reported", ep, 8, 0);

    close(ep);
    close(p[0]);
    close(p[1]);
    close(file);
    close(dir);
    close(zero);
    close(opath);
}

static int raw_wait(int ep, struct epoll_event *events, int maxevents)
{
    errno = 0;
    return epoll_wait(ep, events, maxevents, 0);
}

static void waits(void)
{
    printf("-- epoll_wait\n");
    int ep = epoll_create1(0);
    MUST(ep >= 0);
    int p[2];
    MUST(pipe2(p, O_NONBLOCK) == 0);
    int unused = unused_fd();
    struct epoll_event events[4];
    /* Static, so its address is low: the range check of a huge maxevents passes wherever ASLR puts it. */
    static struct epoll_event low_buffer[4];
    long max_events = INT_MAX / (long)sizeof(struct epoll_event);

    show("epfd -1", raw_wait(-1, events, 4));
    show("unused epfd", raw_wait(unused, events, 4));
    show("epfd is a pipe", raw_wait(p[0], events, 4));
    show("maxevents 0", raw_wait(ep, events, 0));
    show("maxevents -1", raw_wait(ep, events, -1));
    show("maxevents INT_MIN", raw_wait(ep, events, INT_MIN));
    show("maxevents INT_MAX / sizeof(struct epoll_event) + 1", raw_wait(ep, events, (int)max_events + 1));
    show("maxevents INT_MAX / sizeof(struct epoll_event), nothing ready", raw_wait(ep, low_buffer, (int)max_events));
    show("buffer at a kernel address, nothing ready", raw_wait(ep, (struct epoll_event *)-4096L, 4));
    show("buffer NULL, nothing ready", raw_wait(ep, NULL, 4));
    show("pipe epfd, maxevents 0", raw_wait(p[0], events, 0));
    show("unused epfd, maxevents 0", raw_wait(unused, events, 0));

    ctl_must(ep, EPOLL_CTL_ADD, p[0], EPOLLIN, 0x77);
    MUST(write(p[1], "x", 1) == 1);
    long page = sysconf(_SC_PAGESIZE);
    struct epoll_event *read_only = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MUST(read_only != MAP_FAILED);
    show("an event ready, read-only buffer", raw_wait(ep, read_only, 4));
    wait_show("the event was kept", ep, 4, 0);
    show("an event ready, buffer NULL", raw_wait(ep, NULL, 4));
    wait_show("the event was kept", ep, 4, 0);
    munmap(read_only, (size_t)page);

    errno = 0;
    show("epoll_pwait2, timespec at an unmapped address", epoll_pwait2(ep, events, 4, (struct timespec *)-4096L, NULL));
    errno = 0;
    show("epoll_pwait, sigmask at an unmapped address", epoll_pwait(ep, events, 4, 0, (sigset_t *)-4096L));
    close(ep);
    close(p[0]);
    close(p[1]);
}

static void fd_limit(void)
{
    printf("-- EMFILE\n");
    struct rlimit saved, low;
    MUST(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    low = saved;
    low.rlim_cur = saved.rlim_max < 256 ? saved.rlim_max : 256;
    MUST(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int p[2];
    MUST(pipe(p) == 0);
    int fds[256];
    int count = 0;
    while (count < 256 && (fds[count] = dup(p[0])) >= 0)
        count++;
    printf("dup until it fails: EMFILE %s\n", yes_no(count < 256 && errno == EMFILE));
    errno = 0;
    show_fd("epoll_create1(0) at the limit", epoll_create1(0));
    errno = 0;
    show_fd("epoll_create(1) at the limit", epoll_create(1));
    close(fds[--count]);
    int ep = epoll_create1(0);
    show_fd("epoll_create1(0) after one close", ep);
    close(ep);
    while (count > 0)
        close(fds[--count]);
    close(p[0]);
    close(p[1]);
    MUST(setrlimit(RLIMIT_NOFILE, &saved) == 0);
}

int main(void)
{
    transcript_start();
    create();
    control();
    waits();
    fd_limit();
    return 0;
}
