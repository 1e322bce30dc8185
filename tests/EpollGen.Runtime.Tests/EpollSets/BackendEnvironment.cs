using System;
using EpollGen.Taps;

namespace EpollGen.Runtime.Tests.EpollSets;

/// <summary>
/// Points <c>EPOLLGEN_TAP_BACKEND</c> at one backend while a libc-shaped test runs, so its
/// epoll_create1 builds sets there, and restores the previous value. Only for the signal
/// collection, whose tests never run alongside others that create sets.
/// </summary>
internal sealed class BackendEnvironment : IDisposable
{
    private const string Variable = "EPOLLGEN_TAP_BACKEND";
    private readonly string? _previous = Environment.GetEnvironmentVariable(Variable);

    public BackendEnvironment(TapBackendKind backend) =>
        Environment.SetEnvironmentVariable(Variable, backend == TapBackendKind.IoUring ? "io_uring" : "epoll");

    public void Dispose() => Environment.SetEnvironmentVariable(Variable, _previous);
}
