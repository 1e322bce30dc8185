using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen;

/// <summary>
/// A periodic timer on a timerfd of the monotonic clock, awaited through an <see cref="AsyncFd"/>,
/// with <see cref="System.Threading.PeriodicTimer"/>'s contract: one wait at a time, ticks that
/// came while no one waited collapse into one completed wait, and a wait returns false once the
/// timer is disposed. Unlike it, the timer says how many periods each wait covered: the kernel
/// counts expirations, so a consumer that fell behind learns by how much.
/// </summary>
public sealed class TimerFdPeriodicTimer : IDisposable
{
    // PeriodicTimer's largest period: it hands whole milliseconds to a Timer, which takes at most
    // uint.MaxValue - 1 of them. Below it, a period in nanoseconds (about 4.3e15) fits in a long.
    private static readonly TimeSpan PeriodCeiling = TimeSpan.FromMilliseconds(uint.MaxValue);

    private readonly AsyncFd _fd;
    private TimeSpan _period;
    private long _missedTicks;
    private long _lastExpirations;
    private int _disposed;

    /// <summary>
    /// Starts a timer that ticks every <paramref name="period"/>, first one period from now; with
    /// <see cref="Timeout.InfiniteTimeSpan"/>, a stopped timer that never ticks until
    /// <see cref="Period"/> is set.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is neither <see cref="Timeout.InfiniteTimeSpan"/> nor positive and less than <see cref="uint.MaxValue"/> milliseconds.</exception>
    /// <exception cref="FdException">timerfd_create or timerfd_settime failed (EMFILE, ...).</exception>
    public TimerFdPeriodicTimer(TimeSpan period)
        : this(period, engineFor: null)
    {
    }

    internal TimerFdPeriodicTimer(TimeSpan period, Func<int, AsyncFdEngine>? engineFor)
    {
        CheckPeriod(period);
        _fd = AsyncFd.OwnNewReadable("timerfd_create", LibC.timerfd_create(LibC.CLOCK_MONOTONIC, LibC.TFD_NONBLOCK | LibC.TFD_CLOEXEC), engineFor);
        try
        {
            Arm(_fd.Fd, period);
        }
        catch
        {
            _fd.Dispose();
            throw;
        }
        _period = period;
    }

    /// <summary>The AsyncFd over the timerfd.</summary>
    internal AsyncFd AsyncFd => _fd;

    /// <summary>
    /// The period. Setting it re-arms the timer: the next tick comes one new period after the set,
    /// and ticks not yet waited for are dropped. <see cref="Timeout.InfiniteTimeSpan"/> stops it:
    /// no tick comes until a finite period is set.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is neither <see cref="Timeout.InfiniteTimeSpan"/> nor positive and less than <see cref="uint.MaxValue"/> milliseconds.</exception>
    /// <exception cref="ObjectDisposedException">The timer is disposed.</exception>
    public TimeSpan Period
    {
        get => _period;
        set
        {
            CheckPeriod(value);
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            using (new HandleReference(_fd.Handle))
                Arm(_fd.Fd, value);
            _period = value;
        }
    }

    /// <summary>
    /// How many periods the last completed wait covered: 1 when the consumer kept up, more when
    /// it came late and ticks were missed; 0 before the first wait completes.
    /// </summary>
    public long LastExpirations => Volatile.Read(ref _lastExpirations);

    /// <summary>The ticks missed since the timer started: the sum over completed waits of their expirations beyond the first.</summary>
    public long MissedTicks => Volatile.Read(ref _missedTicks);

    /// <summary>
    /// Waits for the next tick: completes at once if a tick came since the last wait, with true;
    /// with false once the timer is disposed, during the wait or before it.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="InvalidOperationException">Another wait is in flight.</exception>
    public ValueTask<bool> WaitForNextTickAsync(CancellationToken cancellationToken = default)
    {
        // The read comes first, before any readiness is awaited: a tick the kernel already counted
        // completes the wait at once, whether or not the engine has reported it yet. Not an async
        // method, so that path allocates nothing even where async methods are not optimized.
        if (Volatile.Read(ref _disposed) != 0)
            return new ValueTask<bool>(false);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<bool>(cancellationToken);
        try
        {
            if (TryTakeTicks())
                return new ValueTask<bool>(true);
        }
        catch (ObjectDisposedException)
        {
            return new ValueTask<bool>(false);
        }
        return WaitAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        try
        {
            do
                await _fd.ReadableAsync(cancellationToken).ConfigureAwait(false);
            while (!TryTakeTicks());
            return true;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Stops the timer and closes the timerfd; a wait in flight returns false.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _fd.Dispose();
    }

    private unsafe bool TryTakeTicks()
    {
        // A timerfd read is one 8-byte count of the expirations since the last read, or EAGAIN.
        ulong expirations = 0;
        if (!_fd.TryRead(new Span<byte>(&expirations, sizeof(ulong)), out _))
            return false;
        long count = (long)expirations;
        Volatile.Write(ref _lastExpirations, count);
        Interlocked.Add(ref _missedTicks, count - 1);
        return true;
    }

    private static unsafe void Arm(int fd, TimeSpan period)
    {
        // struct itimerspec is it_interval, then it_value: the same period for both. An infinite
        // period sets both to zero, which disarms the timerfd. CheckPeriod bounds the product.
        long nanoseconds = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks * TimeSpan.NanosecondsPerTick;
        Timespec* spec = stackalloc Timespec[2];
        spec[0] = new Timespec { tv_sec = nanoseconds / 1_000_000_000, tv_nsec = nanoseconds % 1_000_000_000 };
        spec[1] = spec[0];
        if (LibC.timerfd_settime(fd, 0, spec, null) != 0)
            throw new FdException("timerfd_settime", fd, Marshal.GetLastPInvokeError());
    }

    // PeriodicTimer's range, except below: a timerfd counts nanoseconds, so a period of less than a
    // millisecond is kept rather than refused.
    private static void CheckPeriod(TimeSpan period)
    {
        if (period == Timeout.InfiniteTimeSpan)
            return;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero, nameof(period));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(period, PeriodCeiling, nameof(period));
    }
}
