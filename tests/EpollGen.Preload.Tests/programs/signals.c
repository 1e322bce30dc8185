/*
 * Signals (epoll_wait(2) EINTR, signal(7), epoll_pwait atomicity):
 * - a thread blocked in epoll_wait, epoll_pwait or epoll_pwait2 and hit by a caught signal returns
 *   -1 EINTR, with or without SA_RESTART (these calls are never restarted);
 * - an ignored signal, or one the waiting thread blocks, does not interrupt it;
 * - epoll_pwait/epoll_pwait2 with a mask that unblocks a pending signal return EINTR at once, the
 *   handler runs, and the old mask is back afterwards; a mask that keeps it blocked leaves it pending
 *   and the call waits for I/O; with an event already ready the call returns the event, the old mask
 *   is restored before the handler could run, and the signal stays pending.
 * The waiter is signalled repeatedly until it returns, so a signal that lands before it blocks only
 * delays the outcome, never changes it.
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

static atomic_int handled;
static int ep;

static void on_signal(int signal)
{
    (void)signal;
    atomic_fetch_add(&handled, 1);
}

static void catch(int signal, int flags)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = flags;
    sigemptyset(&action.sa_mask);
    MUST(sigaction(signal, &action, NULL) == 0);
}

static void ignore(int signal)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_IGN;
    MUST(sigaction(signal, &action, NULL) == 0);
}

enum call { WAIT, PWAIT, PWAIT2 };

struct waiter {
    enum call call;
    int timeout_ms;
    atomic_int done;
    int result;
    int error;
};

static void *wait_in_thread(void *arg)
{
    struct waiter *w = arg;
    struct epoll_event event;
    struct timespec timeout = { w->timeout_ms / 1000, (long)(w->timeout_ms % 1000) * 1000000L };
    errno = 0;
    switch (w->call) {
    case WAIT: w->result = epoll_wait(ep, &event, 1, w->timeout_ms); break;
    case PWAIT: w->result = epoll_pwait(ep, &event, 1, w->timeout_ms, NULL); break;
    case PWAIT2: w->result = epoll_pwait2(ep, &event, 1, &timeout, NULL); break;
    }
    w->error = errno;
    atomic_store(&w->done, 1);
    return NULL;
}

/*
 * Starts a waiter and sends it the signal every 20ms until it returns, or for `for_ms` when a
 * signal is not meant to end the wait.
 */
static void interrupt(const char *label, enum call call, int signal, int block_usr1, int timeout_ms, int for_ms)
{
    struct waiter w = { .call = call, .timeout_ms = timeout_ms };
    atomic_store(&handled, 0);
    pthread_t thread;
    int64_t start = now_ms();
    /* A thread starts with its creator's mask, so a blocking waiter is never without the block. */
    sigset_t usr1, before;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    MUST(pthread_sigmask(block_usr1 ? SIG_BLOCK : SIG_UNBLOCK, &usr1, &before) == 0);
    MUST(pthread_create(&thread, NULL, wait_in_thread, &w) == 0);
    MUST(pthread_sigmask(SIG_SETMASK, &before, NULL) == 0);
    while (!atomic_load(&w.done) && (for_ms < 0 || now_ms() - start < for_ms)) {
        MUST(pthread_kill(thread, signal) == 0);
        sleep_ms(20);
    }
    MUST(pthread_join(thread, NULL) == 0);
    errno = w.error;
    show(label, w.result);
    printf("%s: handler ran %s\n", label, yes_no(atomic_load(&handled) > 0));
}

static int pending(int signal)
{
    sigset_t set;
    MUST(sigpending(&set) == 0);
    return sigismember(&set, signal);
}

static int blocked(int signal)
{
    sigset_t set;
    MUST(pthread_sigmask(SIG_SETMASK, NULL, &set) == 0);
    return sigismember(&set, signal);
}

static void masks(int use_pwait2)
{
    printf("-- %s: mask and a pending SIGUSR1 (blocked in this thread)\n", use_pwait2 ? "epoll_pwait2" : "epoll_pwait");
    sigset_t usr1, unblocking, blocking;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    MUST(pthread_sigmask(SIG_BLOCK, &usr1, NULL) == 0);
    MUST(pthread_sigmask(SIG_SETMASK, NULL, &unblocking) == 0);
    sigdelset(&unblocking, SIGUSR1);
    blocking = unblocking;
    sigaddset(&blocking, SIGUSR1);

    struct epoll_event event;
    struct timespec five_s = { 5, 0 }, hundred_ms = { 0, 100000000 };

    atomic_store(&handled, 0);
    MUST(raise(SIGUSR1) == 0);
    printf("pending before: %s, handler ran: %s\n", yes_no(pending(SIGUSR1)), yes_no(atomic_load(&handled) > 0));
    int64_t start = now_ms();
    errno = 0;
    int n = use_pwait2 ? epoll_pwait2(ep, &event, 1, &five_s, &unblocking) : epoll_pwait(ep, &event, 1, 5000, &unblocking);
    show("mask unblocks it, timeout 5s", n);
    show_immediate("mask unblocks it", now_ms() - start);
    printf("handler ran: %s, pending after: %s, blocked again: %s\n", yes_no(atomic_load(&handled) > 0),
           yes_no(pending(SIGUSR1)), yes_no(blocked(SIGUSR1)));

    atomic_store(&handled, 0);
    MUST(raise(SIGUSR1) == 0);
    start = now_ms();
    errno = 0;
    n = use_pwait2 ? epoll_pwait2(ep, &event, 1, &hundred_ms, &blocking) : epoll_pwait(ep, &event, 1, 100, &blocking);
    show("mask keeps it blocked, timeout 100ms", n);
    show_elapsed("mask keeps it blocked", now_ms() - start, 100);
    printf("handler ran: %s, pending after: %s\n", yes_no(atomic_load(&handled) > 0), yes_no(pending(SIGUSR1)));

    int e = eventfd(1, EFD_NONBLOCK);
    MUST(e >= 0);
    ctl_must(ep, EPOLL_CTL_ADD, e, EPOLLIN, 0x5e);
    errno = 0;
    n = use_pwait2 ? epoll_pwait2(ep, &event, 1, &five_s, &unblocking) : epoll_pwait(ep, &event, 1, 5000, &unblocking);
    show("an event ready, mask unblocks the pending signal", n);
    printf("handler ran: %s, pending after: %s, blocked again: %s\n", yes_no(atomic_load(&handled) > 0),
           yes_no(pending(SIGUSR1)), yes_no(blocked(SIGUSR1)));
    ctl_must(ep, EPOLL_CTL_DEL, e, 0, 0);
    close(e);

    MUST(pthread_sigmask(SIG_UNBLOCK, &usr1, NULL) == 0);
    printf("unblocked with sigprocmask: handler ran %s, pending %s\n", yes_no(atomic_load(&handled) > 0),
           yes_no(pending(SIGUSR1)));
}

int main(void)
{
    transcript_start();
    MUST((ep = epoll_create1(0)) >= 0);

    printf("-- a caught signal, no SA_RESTART\n");
    catch(SIGUSR1, 0);
    interrupt("epoll_wait, timeout 10s", WAIT, SIGUSR1, 0, 10000, -1);
    interrupt("epoll_wait, timeout -1", WAIT, SIGUSR1, 0, -1, -1);
    interrupt("epoll_pwait, timeout 10s", PWAIT, SIGUSR1, 0, 10000, -1);
    interrupt("epoll_pwait2, timeout 10s", PWAIT2, SIGUSR1, 0, 10000, -1);

    printf("-- a caught signal, SA_RESTART\n");
    catch(SIGUSR1, SA_RESTART);
    interrupt("epoll_wait, timeout 10s", WAIT, SIGUSR1, 0, 10000, -1);
    interrupt("epoll_pwait2, timeout 10s", PWAIT2, SIGUSR1, 0, 10000, -1);

    printf("-- signals that do not interrupt, sent for 150ms\n");
    ignore(SIGUSR2);
    interrupt("SIGUSR2 ignored, epoll_wait timeout 300ms", WAIT, SIGUSR2, 0, 300, 150);
    catch(SIGUSR1, 0);
    interrupt("SIGUSR1 blocked by the waiter, epoll_wait timeout 300ms", WAIT, SIGUSR1, 1, 300, 150);

    masks(0);
    masks(1);
    close(ep);
    return 0;
}
