using EpollGen.Taps;

namespace EpollGen.Echo.Server;

/// <summary>Where the echo server's sets are made, and so where <c>--backend</c> takes effect.</summary>
public static class EchoSets
{
    /// <summary>
    /// Whether <see cref="EpollSet"/> lets its caller choose the tap backend. It does not yet: this
    /// build's sets always run on kernel epoll (io_uring for EpollSet is in progress elsewhere), so
    /// a request for io_uring is reported, not honoured. When EpollSet takes a backend, pass
    /// <c>requested</c> through in <see cref="Create"/> and set this to true.
    /// </summary>
    public const bool BackendSelectable = false;

    /// <summary>A set for one event loop, on <paramref name="requested"/> once sets can choose.</summary>
    public static EpollSet Create(TapBackendKind? requested)
    {
        _ = requested;
        return new EpollSet();
    }

    /// <summary>A sentence for the output when the backend asked for is not the one in use; null otherwise.</summary>
    public static string? Mismatch(TapBackendKind? requested, TapBackendKind used) =>
        requested is { } asked && asked != used
            ? $"note: --backend {Name(asked)} was asked for, but EpollSet in this build always uses the {Name(used)} tap backend; io_uring for EpollSet is not available yet."
            : null;

    /// <summary>The command-line spelling of a backend.</summary>
    public static string Name(TapBackendKind kind) => kind == TapBackendKind.IoUring ? "io_uring" : "epoll";
}
