using System;
using EpollGen.Events;
using EpollGen.Native.IoUring;

namespace EpollGen.Taps;

/// <summary>Picks and creates the tap backend of a new event queue.</summary>
internal static class TapBackendSelection
{
    /// <summary>The environment variable that overrides the default choice: <c>epoll</c> or <c>io_uring</c>.</summary>
    public const string EnvironmentVariable = "EPOLLGEN_TAP_BACKEND";

    /// <summary>
    /// Creates the backend <see cref="Choose"/> picks with this process's environment and kernel;
    /// an io_uring backend for a queue with a single waiting thread defers its task work to that
    /// thread where the kernel can.
    /// </summary>
    public static ITapBackend Create(TapBackendKind? requested, CoalescingEventQueue mailbox, bool singleWaitingThread = false)
    {
        string? environmentValue = Environment.GetEnvironmentVariable(EnvironmentVariable);
        // Probed only when io_uring may be chosen: a kernel epoll queue never touches io_uring.
        string? ioUringProblem = (requested ?? Parse(environmentValue)) == TapBackendKind.Epoll ? null : IoUringRing.UnsupportedReason;
        TapBackendKind kind = Choose(requested, environmentValue, ioUringProblem);
        if (kind == TapBackendKind.Epoll)
            return new EpollTapBackend(mailbox);
        return new IoUringTapBackend(mailbox, singleIssuer: singleWaitingThread && IoUringRing.DeferredTaskRunSupported);
    }

    /// <summary>
    /// Creates the io_uring backend that was asked for by name, for a queue waited on by several
    /// threads.
    /// </summary>
    /// <exception cref="NotSupportedException">io_uring is unusable here; the message says why.</exception>
    public static IoUringTapBackend CreateIoUring(CoalescingEventQueue mailbox)
    {
        Choose(TapBackendKind.IoUring, null, IoUringRing.UnsupportedReason);
        return new IoUringTapBackend(mailbox, singleIssuer: false);
    }

    /// <summary>
    /// The backend to use: <paramref name="requested"/> when given, else the one
    /// <paramref name="environmentValue"/> names, else io_uring when it is usable and epoll when it
    /// is not. <paramref name="ioUringProblem"/> is why io_uring is unusable, or null.
    /// </summary>
    /// <exception cref="NotSupportedException">io_uring was asked for (by argument or environment) and is unusable.</exception>
    /// <exception cref="ArgumentException">The environment names no backend, or an unknown kind was requested.</exception>
    public static TapBackendKind Choose(TapBackendKind? requested, string? environmentValue, string? ioUringProblem)
    {
        TapBackendKind? forced = requested ?? Parse(environmentValue);
        if (forced is null)
            return ioUringProblem is null ? TapBackendKind.IoUring : TapBackendKind.Epoll;
        if (forced is not (TapBackendKind.Epoll or TapBackendKind.IoUring))
            throw new ArgumentException($"{forced} is not a tap backend.", nameof(requested));
        if (forced == TapBackendKind.IoUring && ioUringProblem is not null)
        {
            string source = requested is null ? $" ({EnvironmentVariable}={environmentValue})" : "";
            throw new NotSupportedException($"The io_uring tap backend was requested{source} but io_uring is not usable here: {ioUringProblem}.");
        }
        return forced.Value;
    }

    /// <summary>
    /// The backend of an epoll set: <paramref name="requested"/> when given, else the one the
    /// environment names, else <see cref="TapBackendKind.Epoll"/>. Sets default to kernel epoll,
    /// unlike bare queues: it gives Linux's semantics with nothing re-checked in user space (the
    /// kernel re-reads readiness at harvest, keeps level-triggered entries and one-shot disarms),
    /// and its wait is the one benchmarked against raw epoll. io_uring sets are exact too, at the
    /// price of a poll(2) per wait that has candidates; they are there to be chosen.
    /// </summary>
    public static TapBackendKind ChooseForEpollSet(TapBackendKind? requested) =>
        requested ?? Parse(Environment.GetEnvironmentVariable(EnvironmentVariable)) ?? TapBackendKind.Epoll;

    // A typo must not silently pick the default: the variable exists to force a choice.
    private static TapBackendKind? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" => null,
        "epoll" => TapBackendKind.Epoll,
        "io_uring" or "iouring" => TapBackendKind.IoUring,
        _ => throw new ArgumentException($"{EnvironmentVariable} is \"{value}\"; use epoll or io_uring, or leave it unset for the default."),
    };
}
