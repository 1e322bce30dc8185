/*
 * The C half of libepollgen.so: the libc symbols an unmodified program calls, interposed with
 * LD_PRELOAD. A call that concerns an EpollGen set goes to the managed runtime (Exports.cs); every
 * other call goes straight to libc's own function, found with dlsym(RTLD_NEXT), without entering
 * managed code. Which fds concern EpollGen is read from a table both halves keep: one byte per fd,
 * reserved here once for the process's whole fd range and committed by the kernel page by page as
 * fds are marked. The runtime's own fds are marked too: a program's close, close_range and
 * closefrom leave them open, since under Linux they would not exist.
 *
 * The runtime's own system calls never come back here: its P/Invokes resolve in libc's handle,
 * not the global scope, and a thread already inside EpollGen is sent to libc as well.
 *
 * The runtime starts at the first call that needs it, not at the first epoll_create: a new set is
 * the kernel's own epoll, marked lazy, and the first call that needs EpollGen on it (a ctl, a
 * wait, a dup, its nesting in a set) starts the runtime if need be and adopts it under the same
 * number. A process that only probes for epoll (create, close) never starts the runtime.
 *
 * fork: a child forked after EpollGen's runtime started must not run managed code (its other
 * threads did not survive the fork). There every call goes to libc, and a call on a set inherited
 * from the parent fails with ENOSYS, except close, close_range and the dup family, which act on the
 * child's fd table as usual. A child forked before the runtime started starts its own when it
 * needs it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    FD_LAZY_SET = 4,    /* a kernel epoll created by the program, adopted at first use (C only) */
    FD_PRIVATE = 8,     /* the runtime's own fd, which a program's close_range leaves open */
};

/* The bits that make a close enter the runtime; a lazy set's close is libc's, a private fd's too. */
#define FD_RUNTIME_BITS (FD_NAMES_SET | FD_REGISTERED)

/* Managed entry points, in Exports.cs. Each returns libc's result and, when negative, the errno. */
extern void epollgen_attach(unsigned char *table, size_t length, int *highest);
extern void epollgen_adopt(int fd);
extern int epollgen_ctl(int epfd, int op, int fd, struct epoll_event *event, int *error);
extern int epollgen_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *sigmask, int *error);
extern int epollgen_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *timeout, const sigset_t *sigmask, int *error);
extern int epollgen_close(int fd, int *error);
extern int epollgen_dup(int kind, int oldfd, int newfd, int flags, int *error);
extern int epollgen_close_range(unsigned first, unsigned last, int flags, int (*kernel_close_range)(unsigned, unsigned, int), int *error);

/* Where the runtime's own fds go (PrivateFds.Floor): above FD_SETSIZE, the numbers select(2) sees. */
#define OWN_FD_FLOOR 1024

/* The kinds of epollgen_dup. */
enum { DUP = 0, DUP2 = 1, DUP3 = 2, FCNTL_DUPFD = 3 };

static int (*libc_close)(int);
static int (*libc_close_range)(unsigned, unsigned, int);
static int (*libc_open64)(const char *, int, ...);
static void (*libc_closefrom)(int);
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
/* The highest fd that ever had bits (both halves raise it before writing them): close_range looks no further. */
static int fd_highest = -1;

/* Set once the runtime has run managed code; a child forked after that stays in libc. */
static int runtime_started;
static int forked_after_start;
static __thread int inside_epollgen;
static pthread_once_t attach_once = PTHREAD_ONCE_INIT;
/* Serializes adoptions, so two threads' first calls on one lazy set adopt it once. */
static pthread_mutex_t adopt_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The pid whose memory this is, set at load and in each forked child: a vfork child (which runs no
 * fork handlers) shares the parent's memory and runtime, and must change neither.
 */
static pid_t process_pid;

/*
 * The calling thread closed with CLOSE_RANGE_UNSHARE while its fd table was shared: it now has a
 * private copy, which the table of bits does not describe. Everything it calls goes to libc.
 */
static __thread int own_fd_table;

/*
 * A lazy set that a fork shares between two processes stays the kernel's in both: adopting it in
 * one would give that process a set of its own, and the other's registrations would no longer be
 * shared with it, as they are under Linux.
 */
static void forget_lazy_sets(void)
{
    long highest = __atomic_load_n(&fd_highest, __ATOMIC_ACQUIRE);
    for (long fd = 0; fd <= highest && (size_t)fd < fd_table_length; fd++)
    {
        if ((__atomic_load_n(&fd_table[fd], __ATOMIC_RELAXED) & FD_LAZY_SET) != 0)
            __atomic_fetch_and(&fd_table[fd], (unsigned char)~FD_LAZY_SET, __ATOMIC_RELEASE);
    }
}

static void after_fork_in_child(void)
{
    forked_after_start = __atomic_load_n(&runtime_started, __ATOMIC_RELAXED);
    process_pid = (pid_t)syscall(SYS_getpid);
    forget_lazy_sets();
}

static int kernel_close_range(unsigned first, unsigned last, int flags)
{
    if (libc_close_range != NULL)
        return libc_close_range(first, last, flags);
    return (int)syscall(SYS_close_range, first, last, flags);
}

__attribute__((constructor)) static void resolve_libc(void)
{
    libc_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    libc_close_range = (int (*)(unsigned, unsigned, int))dlsym(RTLD_NEXT, "close_range");
    libc_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    libc_closefrom = (void (*)(int))dlsym(RTLD_NEXT, "closefrom");
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
    process_pid = (pid_t)syscall(SYS_getpid);
    pthread_atfork(NULL, forget_lazy_sets, after_fork_in_child);
}

/* The Threads: line of /proc/self/status, read with raw system calls; -1 when unknown. */
static int thread_count(void)
{
    char status[4096];
    int saved = errno;
    long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC);
    long length = fd < 0 ? -1 : syscall(SYS_read, fd, status, sizeof status - 1);
    if (fd >= 0)
        syscall(SYS_close, fd);
    errno = saved;
    if (length <= 0)
        return -1;
    status[length] = '\0';
    const char *line = strstr(status, "\nThreads:");
    return line == NULL ? -1 : atoi(line + sizeof "\nThreads:" - 1);
}

/* The threads the runtime's start created (NativeAOT's finalizer): they share the fd table, unseen by the program. */
static int runtime_threads;

/*
 * With EPOLLGEN_STARTED_DIR set, the process whose runtime starts leaves an empty file named by its
 * pid there, so a test can tell which processes' sets are EpollGen's. Raw system calls: the file's
 * fd is open only between them, and neither reaches the interposed close.
 */
static void announce_start(void)
{
    const char *directory = getenv("EPOLLGEN_STARTED_DIR");
    if (directory == NULL || directory[0] == '\0')
        return;
    int saved = errno;
    char path[4096];
    int length = snprintf(path, sizeof path, "%s/%ld", directory, (long)syscall(SYS_getpid));
    if (length > 0 && (size_t)length < sizeof path)
    {
        long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            syscall(SYS_close, fd);
    }
    errno = saved;
}

/*
 * The signals a program may block and wait for (sigsuspend, sigwait, signalfd): 1 to 31 but the
 * ones a fault raises in the faulting thread. The runtime's threads block them, or the kernel
 * would hand them such a signal whenever the program's own threads block it, and the program would
 * never see it (nginx's master waits for SIGCHLD so). Real-time signals stay open: the runtime
 * uses them itself.
 */
static void block_program_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    for (int signal = 1; signal < 32; signal++)
    {
        if (signal != SIGSEGV && signal != SIGBUS && signal != SIGFPE && signal != SIGILL && signal != SIGTRAP && signal != SIGSYS)
            sigaddset(&set, signal);
    }
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void attach(void)
{
    int before = thread_count();
    /* The threads the runtime starts now (its finalizer) take this thread's mask. */
    sigset_t mask;
    block_program_signals(&mask);
    epollgen_attach(fd_table, fd_table_length, &fd_highest);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    int after = thread_count();
    if (before > 0 && after >= before)
        __atomic_store_n(&runtime_threads, after - before, __ATOMIC_RELAXED);
    announce_start();
}

static inline unsigned fd_bits(int fd)
{
    return (size_t)(unsigned)fd < fd_table_length ? __atomic_load_n(&fd_table[fd], __ATOMIC_ACQUIRE) : 0;
}

/* Whether this call may enter the runtime: not from inside it, and not in a child forked after it started. */
static inline int may_enter(void)
{
    return !inside_epollgen && !forked_after_start && !own_fd_table && fd_table != NULL;
}

/* Raises the watermark to fd, before fd's bits are written; it never comes down. */
static void cover(int fd)
{
    int seen = __atomic_load_n(&fd_highest, __ATOMIC_RELAXED);
    while (fd > seen && !__atomic_compare_exchange_n(&fd_highest, &seen, fd, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
}

/*
 * fd, a kernel epoll just created, becomes a lazy set. Its number was
 * free until the creation, so no other bits can be there. (A managed close of a set that raced
 * with this creation and got the same number back may clear the bit again: the set then stays
 * the kernel's, which answers as Linux does.)
 */
static int mark_lazy(int fd)
{
    if (fd >= 0 && (size_t)(unsigned)fd < fd_table_length)
    {
        cover(fd);
        __atomic_store_n(&fd_table[fd], FD_LAZY_SET, __ATOMIC_RELEASE);
    }
    return fd;
}

/* Clears fd's lazy bit: before its close, so that no set created later under the number loses its bit. */
static inline void forget_lazy(int fd)
{
    if ((size_t)(unsigned)fd < fd_table_length)
        __atomic_fetch_and(&fd_table[fd], (unsigned char)~FD_LAZY_SET, __ATOMIC_RELEASE);
}

static inline void enter(void)
{
    /* Inside first: what the runtime opens while it starts is its own (see open64). */
    inside_epollgen = 1;
    pthread_once(&attach_once, attach);
    __atomic_store_n(&runtime_started, 1, __ATOMIC_RELAXED);
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

static inline int is_lazy(int fd)
{
    return (fd_bits(fd) & FD_LAZY_SET) != 0;
}

/* A set of either kind: an EpollGen set's name or a lazy set. */
static inline int concerns_set(int fd)
{
    return (fd_bits(fd) & (FD_NAMES_SET | FD_LAZY_SET)) != 0;
}

/* Makes the lazy set fd EpollGen's, once; the caller has entered. */
static void adopt(int fd)
{
    pthread_mutex_lock(&adopt_lock);
    /* Another thread may have adopted it between the caller's look and the lock. */
    if (is_lazy(fd))
        epollgen_adopt(fd);
    pthread_mutex_unlock(&adopt_lock);
}

/*
 * Enters the runtime for a call on fd, a set of either kind, adopting it first if it is lazy.
 * Returns whether fd now names an EpollGen set; when not (the adoption failed, at the fd limit),
 * it has left again and the kernel's own set serves the call.
 */
static int enter_on_set(int fd)
{
    enter();
    if (is_lazy(fd))
        adopt(fd);
    if (names_set(fd))
        return 1;
    inside_epollgen = 0;
    return 0;
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
    return mark_lazy(libc_epoll_create(size));
}

EXPORT int epoll_create1(int flags)
{
    if (!may_enter())
        return forget_in_child(libc_epoll_create1(flags));
    return mark_lazy(libc_epoll_create1(flags));
}

/*
 * Whether a call on the set epfd goes to libc: epfd is no set, or the call cannot enter the
 * runtime (a lazy set is the kernel's own there, and an EpollGen set is answered by
 * unreachable_set). On 0 the caller has entered, with epfd an EpollGen set.
 */
static int set_call_in_libc(int epfd)
{
    unsigned bits = fd_bits(epfd);
    if ((bits & (FD_NAMES_SET | FD_LAZY_SET)) == 0)
        return 1;
    if (!may_enter())
        return 1;
    return !enter_on_set(epfd);
}

/* In set_call_in_libc's libc case: whether epfd names a set this process cannot reach (a child's inherited copy). */
static inline int unreachable(int epfd)
{
    return forked_after_start && !inside_epollgen && !own_fd_table && names_set(epfd);
}

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
    if (set_call_in_libc(epfd))
        return unreachable(epfd) ? unreachable_set() : libc_epoll_ctl(epfd, op, fd, event);
    /* A lazy set added to (or looked up in) an EpollGen set is EpollGen's first: nesting is checked on sets. */
    if (fd != epfd && is_lazy(fd))
        adopt(fd);
    int error = 0;
    int result = epollgen_ctl(epfd, op, fd, event, &error);
    return leave(result, error);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *sigmask)
{
    if (set_call_in_libc(epfd))
        return unreachable(epfd) ? unreachable_set() : libc_epoll_pwait(epfd, events, maxevents, timeout, sigmask);
    int error = 0;
    int result = epollgen_pwait(epfd, events, maxevents, timeout, sigmask, &error);
    return leave(result, error);
}

EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout)
{
    if (!concerns_set(epfd))
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
    if (set_call_in_libc(epfd))
        return unreachable(epfd) ? unreachable_set() : kernel_epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
    int error = 0;
    int result = epollgen_pwait2(epfd, events, maxevents, timeout, sigmask, &error);
    return leave(result, error);
}

EXPORT int close(int fd)
{
    unsigned bits = fd_bits(fd);
    if (bits == 0 || own_fd_table)
        return libc_close(fd);
    /*
     * The runtime's own fds are not the program's: under Linux the number would not be open. (A
     * program that closes every number it did not open, by hand, must not take a set's epoll.)
     */
    if (bits == FD_PRIVATE && may_enter())
    {
        errno = EBADF;
        return -1;
    }
    if ((bits & FD_RUNTIME_BITS) == 0 || !may_enter())
    {
        forget_lazy(fd);
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
    if (!concerns_set(oldfd) || !may_enter() || !enter_on_set(oldfd))
        return forget_in_child(libc_dup(oldfd));
    int error = 0;
    int result = epollgen_dup(DUP, oldfd, -1, 0, &error);
    return leave(result, error);
}

/*
 * dup2 and dup3 close newfd on the way: they concern EpollGen when either fd does. Returns whether
 * the call goes to libc; on 0 the caller has entered. A lazy newfd alone needs no runtime: its
 * replacement is a close, and the caller clears its bit.
 */
static int pair_call_in_libc(int oldfd, int newfd)
{
    int old_is_set = concerns_set(oldfd);
    int new_has_runtime_bits = (fd_bits(newfd) & FD_RUNTIME_BITS) != 0;
    if ((!old_is_set && !new_has_runtime_bits) || !may_enter())
        return 1;
    if (old_is_set && enter_on_set(oldfd))
        return 0;
    if (!new_has_runtime_bits)
        return 1;
    enter();
    return 0;
}

/* After a libc dup2/dup3 onto newfd: a lazy set newfd named is closed; the child forgets the rest. */
static int replaced_in_libc(int newfd, int result)
{
    if (result >= 0 && !own_fd_table && !forked_after_start)
        forget_lazy(newfd);
    return forget_in_child(result);
}

EXPORT int dup2(int oldfd, int newfd)
{
    if (pair_call_in_libc(oldfd, newfd))
        return oldfd == newfd ? libc_dup2(oldfd, newfd) : replaced_in_libc(newfd, libc_dup2(oldfd, newfd));
    int error = 0;
    int result = epollgen_dup(DUP2, oldfd, newfd, 0, &error);
    return leave(result, error);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (pair_call_in_libc(oldfd, newfd))
        return replaced_in_libc(newfd, libc_dup3(oldfd, newfd, flags));
    int error = 0;
    int result = epollgen_dup(DUP3, oldfd, newfd, flags, &error);
    return leave(result, error);
}

/* fcntl's third argument is read as libc reads it: one machine word, whatever the command. */
static int interposed_fcntl(int (*libc_call)(int, int, ...), int fd, int cmd, void *argument)
{
    if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
        return libc_call(fd, cmd, argument);
    if (!concerns_set(fd) || !may_enter() || !enter_on_set(fd))
        return forget_in_child(libc_call(fd, cmd, argument));
    int error = 0;
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

/* The last fd close_range must look at for bits in [first, last]; -1 when none can have any. */
static long last_covered(unsigned first, unsigned last)
{
    long highest = __atomic_load_n(&fd_highest, __ATOMIC_ACQUIRE);
    long top = (long)last < highest ? (long)last : highest;
    return (long)first <= top ? top : -1;
}

/* The bits of the fds in [first, top], or'ed. */
static unsigned range_bits(unsigned first, long top)
{
    unsigned bits = 0;
    for (long fd = first; fd <= top; fd++)
        bits |= fd_bits((int)fd);
    return bits;
}

/* Clears the bits of [first, top]: in a child forked after start, whose table copy is its own. */
static void forget_range(unsigned first, long top)
{
    for (long fd = first; fd <= top; fd++)
        forget_in_child((int)fd);
}

static void forget_lazy_range(unsigned first, long top)
{
    for (long fd = first; fd <= top; fd++)
        forget_lazy((int)fd);
}

/*
 * Whether a thread of the program's other than the caller shares the fd table: Linux copies the
 * table for CLOSE_RANGE_UNSHARE only then. The runtime's threads share it too, but the program
 * cannot know of them, so they do not count. An unknown count counts as shared.
 */
static int program_shares_fd_table(void)
{
    int threads = thread_count();
    return threads < 0 || threads - __atomic_load_n(&runtime_threads, __ATOMIC_RELAXED) != 1;
}

/*
 * The kernel's close_range over [first, last] without the runtime's own fds: a program closes only
 * what it can see, and on Linux the runtime's fds would not exist. 0 or -errno. (The runtime may
 * open an fd in the range while this runs, as another thread of the program may: a race Linux
 * has too.)
 */
static int close_program_range(unsigned first, unsigned last, int flags)
{
    long top = last_covered(first, last);
    unsigned long from = first;
    for (long fd = first; fd <= top; fd++)
    {
        if ((fd_bits((int)fd) & FD_PRIVATE) == 0)
            continue;
        if ((unsigned long)fd > from && kernel_close_range((unsigned)from, (unsigned)fd - 1, flags) != 0)
            return -errno;
        from = (unsigned long)fd + 1;
    }
    if (from <= last && kernel_close_range((unsigned)from, last, flags) != 0)
        return -errno;
    return 0;
}

/* Whether code at address lies in libepollgen.so itself (the runtime), not in a program's handler
 * that a signal ran while its thread was inside EpollGen. */
static int called_from_this_library(void *address)
{
    Dl_info caller, self;
    return dladdr(address, &caller) != 0 && dladdr((void *)&called_from_this_library, &self) != 0
        && caller.dli_fbase == self.dli_fbase;
}

/*
 * The runtime's own opens: the .NET runtime opens /dev/urandom when it starts and keeps it, and
 * reads files of /proc and /sys now and then. Made on a thread inside EpollGen, they are moved
 * above the numbers a program is handed next (fd 1024 and up, where the limit allows), as the
 * runtime's other fds are, so the program's own numbers stay Linux's. Every other open goes
 * straight to libc. The runtime's code calls open64 (the name glibc's open has for 64-bit
 * offsets); its fopen64 opens inside libc, briefly.
 */
EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE)
    {
        va_list arguments;
        va_start(arguments, flags);
        mode = va_arg(arguments, mode_t);
        va_end(arguments);
    }
    /* A constructor of another library may open before ours has run. */
    if (libc_open64 == NULL)
        libc_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    int fd = libc_open64(path, flags, mode);
    if (fd < 0 || fd >= OWN_FD_FLOOR || !inside_epollgen || !called_from_this_library(__builtin_return_address(0)))
        return fd;
    int moved = libc_fcntl(fd, (flags & O_CLOEXEC) != 0 ? F_DUPFD_CLOEXEC : F_DUPFD, OWN_FD_FLOOR);
    if (moved < 0)
        return fd;
    libc_close(fd);
    return moved;
}

/*
 * close_range(2): a set or a registered fd in the range is closed as close() closes it. Only the
 * fds up to the watermark can have bits, so a huge range costs what the bits in use cost; a range
 * with none goes to libc without entering the runtime, and lazy sets need only their bits cleared.
 */
EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    /* Linux refuses these before changing anything, as libc's call will; CLOEXEC closes nothing. */
    if (first > last || (flags & ~(int)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) != 0 || (flags & CLOSE_RANGE_CLOEXEC) != 0)
        return kernel_close_range(first, last, flags);
    if (own_fd_table || inside_epollgen || fd_table == NULL)
        return kernel_close_range(first, last, flags);
    long top = last_covered(first, last);
    unsigned bits = top < 0 ? 0 : range_bits(first, top);
    if (forked_after_start)
    {
        forget_range(first, top);
        return kernel_close_range(first, last, flags);
    }
    if (bits == 0 && (flags & CLOSE_RANGE_UNSHARE) == 0)
        return kernel_close_range(first, last, flags);
    /* A vfork child: the bits and the runtime are its parent's, whose fds this closes nothing of. */
    if ((pid_t)syscall(SYS_getpid) != process_pid)
        return kernel_close_range(first, last, flags);
    /*
     * UNSHARE closes in a private copy of a table another thread of the program shares, leaving
     * the table the bits describe (and the runtime's threads use) as it was: the calling thread
     * leaves EpollGen, as at the exec that usually follows. In the program's only thread Linux
     * copies nothing, and nothing must be copied away from the runtime's threads either.
     */
    if ((flags & CLOSE_RANGE_UNSHARE) != 0)
    {
        if (program_shares_fd_table())
        {
            int result = kernel_close_range(first, last, flags);
            if (result == 0)
                own_fd_table = 1;
            return result;
        }
        flags &= ~(int)CLOSE_RANGE_UNSHARE;
    }
    if (bits == 0)
        return kernel_close_range(first, last, flags);
    forget_lazy_range(first, top);
    if ((bits & FD_RUNTIME_BITS) == 0)
    {
        int result = close_program_range(first, last, flags);
        if (result == 0)
            return 0;
        errno = -result;
        return -1;
    }
    int error = 0;
    enter();
    int result = epollgen_close_range(first, last, flags, close_program_range, &error);
    return leave(result, error);
}

/* closefrom(3) is void: glibc's closes from max(lowfd, 0) with close_range, and falls back to a walk of /proc. */
EXPORT void closefrom(int lowfd)
{
    if (close_range(lowfd < 0 ? 0 : (unsigned)lowfd, ~0U, 0) != 0 && libc_closefrom != NULL)
        libc_closefrom(lowfd);
}
