/*
 * The C half of libepollgen.so: the libc symbols an unmodified program calls, interposed with
 * LD_PRELOAD. A call that concerns an EpollGen set goes to the managed runtime (Exports.cs); every
 * other call goes straight to libc's own function, found with dlsym(RTLD_NEXT), without entering
 * managed code. Which fds concern EpollGen is read from a table the managed side keeps: one byte per
 * fd, reserved here once for the process's whole fd range and committed by the kernel page by page
 * as fds are marked.
 *
 * The runtime's own system calls never come back here: its P/Invokes resolve in libc's handle,
 * not the global scope, and a thread already inside EpollGen is sent to libc as well.
 *
 * fork: a child forked after EpollGen's runtime started must not run managed code (its other
 * threads did not survive the fork). There every call goes to libc, and a call on a set inherited
 * from the parent fails with ENOSYS, except close and the dup family, which act on the child's fd
 * table as usual.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* Bits of the fd table; the managed side (FdTable.cs) writes them. */
enum
{
    FD_NAMES_SET = 1,   /* the fd is a name of an EpollGen set */
    FD_REGISTERED = 2,  /* the fd was added to an EpollGen set: its close must reach the sets */
};

/* Managed entry points, in Exports.cs. Each returns libc's result and, when negative, the errno. */
extern void epollgen_attach(unsigned char *table, size_t length);
extern int epollgen_create(int legacy, int argument, int *error);
extern int epollgen_ctl(int epfd, int op, int fd, struct epoll_event *event, int *error);
extern int epollgen_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *sigmask, int *error);
extern int epollgen_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *timeout, const sigset_t *sigmask, int *error);
extern int epollgen_close(int fd, int *error);
extern int epollgen_dup(int kind, int oldfd, int newfd, int flags, int *error);

/* The kinds of epollgen_dup. */
enum { DUP = 0, DUP2 = 1, DUP3 = 2, FCNTL_DUPFD = 3 };

static int (*libc_close)(int);
static int (*libc_dup)(int);
static int (*libc_dup2)(int, int);
static int (*libc_dup3)(int, int, int);
static int (*libc_fcntl)(int, int, ...);
static int (*libc_fcntl64)(int, int, ...);
static int (*libc_epoll_create)(int);
static int (*libc_epoll_create1)(int);
static int (*libc_epoll_ctl)(int, int, int, struct epoll_event *);
static int (*libc_epoll_wait)(int, struct epoll_event *, int, int);
static int (*libc_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
static int (*libc_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);

static unsigned char *fd_table;
static size_t fd_table_length;

/* Set once the runtime has run managed code; a child forked after that stays in libc. */
static int runtime_started;
static int forked_after_start;
static __thread int inside_epollgen;
static pthread_once_t attach_once = PTHREAD_ONCE_INIT;

static void after_fork_in_child(void)
{
    forked_after_start = __atomic_load_n(&runtime_started, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void resolve_libc(void)
{
    libc_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    libc_dup = (int (*)(int))dlsym(RTLD_NEXT, "dup");
    libc_dup2 = (int (*)(int, int))dlsym(RTLD_NEXT, "dup2");
    libc_dup3 = (int (*)(int, int, int))dlsym(RTLD_NEXT, "dup3");
    libc_fcntl = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl");
    libc_fcntl64 = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl64");
    if (libc_fcntl64 == NULL)
        libc_fcntl64 = libc_fcntl;
    libc_epoll_create = (int (*)(int))dlsym(RTLD_NEXT, "epoll_create");
    libc_epoll_create1 = (int (*)(int))dlsym(RTLD_NEXT, "epoll_create1");
    libc_epoll_ctl = (int (*)(int, int, int, struct epoll_event *))dlsym(RTLD_NEXT, "epoll_ctl");
    libc_epoll_wait = (int (*)(int, struct epoll_event *, int, int))dlsym(RTLD_NEXT, "epoll_wait");
    libc_epoll_pwait = (int (*)(int, struct epoll_event *, int, int, const sigset_t *))dlsym(RTLD_NEXT, "epoll_pwait");
    libc_epoll_pwait2 = (int (*)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *))dlsym(RTLD_NEXT, "epoll_pwait2");

    /* One byte for every fd the process may ever open; untouched pages cost nothing. */
    struct rlimit limit;
    size_t length = (size_t)1 << 20;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_max != RLIM_INFINITY && limit.rlim_max > length)
        length = limit.rlim_max < ((size_t)1 << 31) ? (size_t)limit.rlim_max : ((size_t)1 << 31);
    void *table = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (table != MAP_FAILED)
    {
        fd_table = table;
        fd_table_length = length;
    }
    pthread_atfork(NULL, NULL, after_fork_in_child);
}

static void attach(void)
{
    epollgen_attach(fd_table, fd_table_length);
}

static inline unsigned fd_bits(int fd)
{
    return (size_t)(unsigned)fd < fd_table_length ? __atomic_load_n(&fd_table[fd], __ATOMIC_ACQUIRE) : 0;
}

/* Whether this call may enter the runtime: not from inside it, and not in a child forked after it started. */
static inline int may_enter(void)
{
    return !inside_epollgen && !forked_after_start && fd_table != NULL;
}

static inline void enter(void)
{
    pthread_once(&attach_once, attach);
    __atomic_store_n(&runtime_started, 1, __ATOMIC_RELAXED);
    inside_epollgen = 1;
}

/* Callers read the call's result into a variable first: C leaves the order of argument evaluation open. */
static inline int leave(int result, int error)
{
    inside_epollgen = 0;
    if (result < 0)
        errno = error;
    return result;
}

/* A call on a set that this process cannot reach (a child's inherited copy). */
static int unreachable_set(void)
{
    errno = ENOSYS;
    return -1;
}

static inline int names_set(int fd)
{
    return (fd_bits(fd) & FD_NAMES_SET) != 0;
}

/* In a child forked after the runtime started, the table is the parent's: a new fd starts clean. */
static inline int forget_in_child(int fd)
{
    if (fd >= 0 && forked_after_start && (size_t)(unsigned)fd < fd_table_length)
        __atomic_store_n(&fd_table[fd], 0, __ATOMIC_RELEASE);
    return fd;
}

EXPORT int epoll_create(int size)
{
    if (!may_enter())
        return forget_in_child(libc_epoll_create(size));
    int error = 0;
    enter();
    int result = epollgen_create(1, size, &error);
    return leave(result, error);
}

EXPORT int epoll_create1(int flags)
{
    if (!may_enter())
        return forget_in_child(libc_epoll_create1(flags));
    int error = 0;
    enter();
    int result = epollgen_create(0, flags, &error);
    return leave(result, error);
}

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    if (!names_set(epfd))
        return libc_epoll_ctl(epfd, op, fd, event);
    if (!may_enter())
        return inside_epollgen ? libc_epoll_ctl(epfd, op, fd, event) : unreachable_set();
    int error = 0;
    enter();
    int result = epollgen_ctl(epfd, op, fd, event, &error);
    return leave(result, error);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *sigmask)
{
    if (!names_set(epfd))
        return libc_epoll_pwait(epfd, events, maxevents, timeout, sigmask);
    if (!may_enter())
        return inside_epollgen ? libc_epoll_pwait(epfd, events, maxevents, timeout, sigmask) : unreachable_set();
    int error = 0;
    enter();
    int result = epollgen_pwait(epfd, events, maxevents, timeout, sigmask, &error);
    return leave(result, error);
}

EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    if (!names_set(epfd))
        return libc_epoll_wait(epfd, events, maxevents, timeout);
    return epoll_pwait(epfd, events, maxevents, timeout, NULL);
}

static int kernel_epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *timeout, const sigset_t *sigmask)
{
    if (libc_epoll_pwait2 != NULL)
        return libc_epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
    return (int)syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout, sigmask, (size_t)(_NSIG / 8));
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *timeout, const sigset_t *sigmask)
{
    if (!names_set(epfd))
        return kernel_epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
    if (!may_enter())
        return inside_epollgen ? kernel_epoll_pwait2(epfd, events, maxevents, timeout, sigmask) : unreachable_set();
    int error = 0;
    enter();
    int result = epollgen_pwait2(epfd, events, maxevents, timeout, sigmask, &error);
    return leave(result, error);
}

EXPORT int close(int fd)
{
    if (fd_bits(fd) == 0)
        return libc_close(fd);
    if (!may_enter())
    {
        forget_in_child(fd);
        return libc_close(fd);
    }
    int error = 0;
    enter();
    int result = epollgen_close(fd, &error);
    return leave(result, error);
}

EXPORT int dup(int oldfd)
{
    if (!names_set(oldfd) || !may_enter())
        return forget_in_child(libc_dup(oldfd));
    int error = 0;
    enter();
    int result = epollgen_dup(DUP, oldfd, -1, 0, &error);
    return leave(result, error);
}

/* dup2 and dup3 close newfd on the way: they concern EpollGen when either fd does. */
static inline int concerns_pair(int oldfd, int newfd)
{
    return names_set(oldfd) || fd_bits(newfd) != 0;
}

EXPORT int dup2(int oldfd, int newfd)
{
    if (!concerns_pair(oldfd, newfd) || !may_enter())
        return oldfd == newfd ? libc_dup2(oldfd, newfd) : forget_in_child(libc_dup2(oldfd, newfd));
    int error = 0;
    enter();
    int result = epollgen_dup(DUP2, oldfd, newfd, 0, &error);
    return leave(result, error);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (!concerns_pair(oldfd, newfd) || !may_enter())
        return forget_in_child(libc_dup3(oldfd, newfd, flags));
    int error = 0;
    enter();
    int result = epollgen_dup(DUP3, oldfd, newfd, flags, &error);
    return leave(result, error);
}

/* fcntl's third argument is read as libc reads it: one machine word, whatever the command. */
static int interposed_fcntl(int (*libc_call)(int, int, ...), int fd, int cmd, void *argument)
{
    if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
        return libc_call(fd, cmd, argument);
    if (!names_set(fd) || !may_enter())
        return forget_in_child(libc_call(fd, cmd, argument));
    int error = 0;
    enter();
    int result = epollgen_dup(FCNTL_DUPFD, fd, (int)(long)argument, cmd, &error);
    return leave(result, error);
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list arguments;
    va_start(arguments, cmd);
    void *argument = va_arg(arguments, void *);
    va_end(arguments);
    return interposed_fcntl(libc_fcntl, fd, cmd, argument);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list arguments;
    va_start(arguments, cmd);
    void *argument = va_arg(arguments, void *);
    va_end(arguments);
    return interposed_fcntl(libc_fcntl64, fd, cmd, argument);
}
