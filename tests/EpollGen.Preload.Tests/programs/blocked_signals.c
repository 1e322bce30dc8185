/*
 * Process-directed signals that every thread of the program blocks stay pending for the process
 * (signal(7)), after its sets have started EpollGen's runtime too: a signal sent to the process while
 * the program blocks it is seen by sigpending, and a sigsuspend that unblocks it runs the handler in
 * the program's own thread and returns. (The runtime's threads must not take it: a program that
 * blocks its signals and waits for them, as nginx's master does with SIGCHLD, would never wake.)
 */
#define _GNU_SOURCE
#include "transcript.h"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

static volatile sig_atomic_t handled;
static pthread_t handled_on;

static void on_signal(int signal)
{
    (void)signal;
    handled++;
    handled_on = pthread_self();
}

static void check(int signal, const char *name)
{
    sigset_t only, pending, waiting;
    sigemptyset(&only);
    sigaddset(&only, signal);
    handled = 0;
    if (signal == SIGCHLD)
    {
        pid_t child = fork();
        if (child == 0)
            _exit(0);
        /* The child's exit sends SIGCHLD; waitpid by itself does not consume the signal. */
        waitpid(child, NULL, 0);
    }
    else
    {
        kill(getpid(), signal);
    }
    sigpending(&pending);
    printf("%s sent while blocked: pending %s, handled %d\n", name, sigismember(&pending, signal) ? "yes" : "no", (int)handled);
    sigprocmask(SIG_BLOCK, NULL, &waiting);
    sigdelset(&waiting, signal);
    if (sigismember(&pending, signal))
    {
        int result = sigsuspend(&waiting);
        printf("%s: sigsuspend %d %s, handled %d, in this thread %s\n", name, result, errno_name(errno), (int)handled,
               pthread_equal(handled_on, pthread_self()) ? "yes" : "no");
    }
}

int main(void)
{
    alarm(20);
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction action = { .sa_handler = on_signal };
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, NULL);
    sigaction(SIGCHLD, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    /* A set used before the program blocks its signals: under the preload, the runtime starts
     * here, and the threads it starts get the mask of this moment, with nothing blocked. */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int efd = eventfd(1, EFD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 }, out[2];
    printf("ADD: %d\n", epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev));
    printf("wait: %d\n", epoll_wait(ep, out, 2, 1000));

    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigaddset(&blocked, SIGCHLD);
    sigaddset(&blocked, SIGTERM);
    sigprocmask(SIG_BLOCK, &blocked, NULL);

    check(SIGUSR1, "SIGUSR1");
    check(SIGTERM, "SIGTERM");
    check(SIGCHLD, "SIGCHLD");
    close(efd);
    close(ep);
    return 0;
}
