using EpollGen.Taps;

namespace EpollGen.Echo.Server;

/// <summary>Where the echo server's sets are made, and so where <c>--backend</c> takes effect.</summary>
public static class EchoSets
{
    /// <summary>
    /// A set for one event loop, on <paramref name="requested"/>; with none, EpollSet's default
    /// (<c>EPOLLGEN_TAP_BACKEND</c>, else kernel epoll).
    /// </summary>
    public static EpollSet Create(TapBackendKind? requested) => new(tapBackend: requested);

    /// <summary>A sentence for the output when the backend asked for is not the one in use; null otherwise.</summary>
    public static string? Mismatch(TapBackendKind? requested, TapBackendKind used) =>
        requested is { } asked && asked != used
            ? $"note: --backend {Name(asked)} was asked for, but the sets use the {Name(used)} tap backend."
            : null;

    /// <summary>The command-line spelling of a backend.</summary>
    public static string Name(TapBackendKind kind) => kind == TapBackendKind.IoUring ? "io_uring" : "epoll";
}
