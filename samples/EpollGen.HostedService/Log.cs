using System;
using EpollGen.Taps;
using Microsoft.Extensions.Logging;

namespace EpollGen.HostedService;

/// <summary>The service's log lines, generated once rather than formatted per call.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "started: pid {Pid}, watching {Directory}, tick every {Interval}, tap backend {Backend}")]
    public static partial void Started(ILogger logger, int pid, string directory, TimeSpan interval, TapBackendKind backend);

    [LoggerMessage(2, LogLevel.Information, "tick {Tick} ({Expirations} expiration(s))")]
    public static partial void Tick(ILogger logger, long tick, ulong expirations);

    [LoggerMessage(3, LogLevel.Information, "created {Name}")]
    public static partial void Created(ILogger logger, string name);

    [LoggerMessage(4, LogLevel.Information, "deleted {Name}")]
    public static partial void Deleted(ILogger logger, string name);

    [LoggerMessage(5, LogLevel.Information, "reload requested (SIGHUP from pid {Pid})")]
    public static partial void ReloadRequested(ILogger logger, uint pid);

    [LoggerMessage(6, LogLevel.Warning, "the watch of {Directory} overflowed: names were missed")]
    public static partial void WatchOverflowed(ILogger logger, string directory);

    [LoggerMessage(7, LogLevel.Warning, "the watch of {Directory} ended (the directory was removed or unmounted)")]
    public static partial void WatchEnded(ILogger logger, string directory);

    [LoggerMessage(8, LogLevel.Information, "stopped: fds closed")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(9, LogLevel.Critical, "failed; stopping the host")]
    public static partial void Failed(ILogger logger, Exception exception);
}
