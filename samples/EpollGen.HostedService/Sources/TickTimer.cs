using System;
using EpollGen.HostedService.Native;
using EpollGen.Interop;
using Microsoft.Extensions.Logging;

namespace EpollGen.HostedService.Sources;

/// <summary>A periodic timerfd on the monotonic clock; each drain logs one tick.</summary>
internal sealed unsafe class TickTimer : IEventSource, IDisposable
{
    private readonly ILogger _logger;
    private long _ticks;

    private TickTimer(FdHandle handle, ILogger logger)
    {
        Handle = handle;
        _logger = logger;
    }

    public FdHandle Handle { get; }

    /// <summary>Creates the timer and arms it to fire every <paramref name="interval"/>, first after one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The interval is not positive.</exception>
    public static TickTimer Start(TimeSpan interval, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        var timer = new TickTimer(FdHandle.FromResult(Sys.timerfd_create(Sys.CLOCK_MONOTONIC, Sys.TFD_NONBLOCK | Sys.TFD_CLOEXEC), "timerfd_create"), logger);
        // struct itimerspec is two timespecs: it_interval, then it_value (the first expiry).
        Timespec* spec = stackalloc Timespec[2];
        long nanoseconds = interval.Ticks * TimeSpan.NanosecondsPerTick;
        spec[0] = new Timespec { tv_sec = nanoseconds / 1_000_000_000, tv_nsec = nanoseconds % 1_000_000_000 };
        spec[1] = spec[0];
        if (Sys.timerfd_settime(timer.Handle.Fd, 0, spec, null) != 0)
        {
            var error = Errors.Of("timerfd_settime");
            timer.Dispose();
            throw error;
        }
        return timer;
    }

    public void Drain()
    {
        ulong expirations = 0;
        ulong count;
        // A read gives the expirations since the last one and resets them; a second read says EAGAIN.
        while (NonBlocking.Read(Handle, &count, sizeof(ulong), "read(timerfd)") == sizeof(ulong))
            expirations += count;
        if (expirations > 0)
            Log.Tick(_logger, ++_ticks, expirations);
    }

    public void Dispose() => Handle.Dispose();
}
