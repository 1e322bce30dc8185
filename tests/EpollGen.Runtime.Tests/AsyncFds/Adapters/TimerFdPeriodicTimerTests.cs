using System;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>TimerFdPeriodicTimer on real timerfds, on each tap backend's engines.</summary>
public abstract partial class TimerFdPeriodicTimerTests(TapBackendKind backend) : AdapterTests(backend)
{
    private TimerFdPeriodicTimer Start(TimeSpan period) => new(period, Engine);

    [Fact]
    public async Task WaitForNextTickAsync_CompletesTrue_NoSoonerThanAPeriod()
    {
        // Taken before the timer is armed: the period runs from the arming.
        long started = Stopwatch.GetTimestamp();
        using TimerFdPeriodicTimer timer = Start(TimeSpan.FromMilliseconds(20));

        Assert.True(await timer.WaitForNextTickAsync().AsTask().WaitAsync(Bound));

        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(20), "the tick came before its period");
        Assert.True(timer.LastExpirations >= 1);
        Assert.True(await timer.WaitForNextTickAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task ALateWait_ReportsTheTicksItMissed()
    {
        using TimerFdPeriodicTimer timer = Start(TimeSpan.FromMilliseconds(5));
        Assert.True(await timer.WaitForNextTickAsync().AsTask().WaitAsync(Bound));
        long missedBefore = timer.MissedTicks;

        // The subject is a consumer that comes late: being late takes time, so this one sleeps
        // for eight periods (the kernel counts at least seven expirations meanwhile).
        Thread.Sleep(TimeSpan.FromMilliseconds(40));
        ValueTask<bool> late = timer.WaitForNextTickAsync();

        Assert.True(late.IsCompletedSuccessfully, "ticks were pending, so the wait should complete at once");
        Assert.True(await late);
        Assert.True(timer.LastExpirations >= 2, $"expirations {timer.LastExpirations}");
        Assert.Equal(missedBefore + timer.LastExpirations - 1, timer.MissedTicks);
    }

    [Fact]
    public async Task Dispose_EndsAPendingWait_WithFalse_AndLaterWaitsAreFalse()
    {
        var timer = Start(TimeSpan.FromHours(1));
        ValueTask<bool> pending = timer.WaitForNextTickAsync();
        Assert.False(pending.IsCompleted);

        timer.Dispose();

        Assert.False(await pending.AsTask().WaitAsync(Bound));
        Assert.False(await timer.WaitForNextTickAsync());
    }

    [Fact]
    public async Task Cancellation_EndsAPendingWait_AndTheNextWaitTicks()
    {
        using TimerFdPeriodicTimer timer = Start(TimeSpan.FromHours(1));
        using var cancellation = new CancellationTokenSource();
        ValueTask<bool> pending = timer.WaitForNextTickAsync(cancellation.Token);

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.AsTask().WaitAsync(Bound));
        timer.Period = TimeSpan.FromMilliseconds(5);
        Assert.True(await timer.WaitForNextTickAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task ASecondWait_WhileOneIsPending_IsRefused()
    {
        using TimerFdPeriodicTimer timer = Start(TimeSpan.FromHours(1));
        _ = timer.WaitForNextTickAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await timer.WaitForNextTickAsync());
    }

    [Fact]
    public void APeriodThatIsNotPositive_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(TimeSpan.Zero));
        using TimerFdPeriodicTimer timer = Start(TimeSpan.FromHours(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.Period = TimeSpan.FromTicks(-1));
        Assert.Equal(TimeSpan.FromHours(1), timer.Period);
    }

    [Fact]
    public void APeriodOfUIntMaxValueMilliseconds_OrMore_IsRefused_AsOutOfRange()
    {
        // PeriodicTimer's ceiling: less than uint.MaxValue milliseconds. TimeSpan.MaxValue in
        // nanoseconds does not fit in a long, so it must be refused before it is converted.
        TimeSpan largest = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(TimeSpan.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => Start(TimeSpan.FromMilliseconds(uint.MaxValue)));
        using TimerFdPeriodicTimer timer = Start(largest);
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.Period = TimeSpan.MaxValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => timer.Period = TimeSpan.FromMilliseconds(uint.MaxValue));

        Assert.Equal(largest, timer.Period);
        (long interval, long value) = Setting(timer);
        Assert.Equal(largest.Ticks * TimeSpan.NanosecondsPerTick, interval);
        Assert.InRange(value, 1, interval);
    }

    [Fact]
    public async Task AnInfinitePeriod_StopsTheTimer_UntilAFinitePeriodIsSet()
    {
        using TimerFdPeriodicTimer timer = Start(Timeout.InfiniteTimeSpan);
        Assert.Equal(Timeout.InfiniteTimeSpan, timer.Period);
        Assert.Equal((0, 0), Setting(timer));
        ValueTask<bool> pending = timer.WaitForNextTickAsync();
        Assert.False(pending.IsCompleted);

        timer.Period = TimeSpan.FromMilliseconds(5);
        Assert.True(await pending.AsTask().WaitAsync(Bound));

        timer.Period = Timeout.InfiniteTimeSpan;
        Assert.Equal(Timeout.InfiniteTimeSpan, timer.Period);
        Assert.Equal((0, 0), Setting(timer));
    }

    // The timerfd's setting from timerfd_gettime(2), in nanoseconds: its interval, and the time
    // left to the next expiration (both 0 when disarmed).
    private static unsafe (long Interval, long Value) Setting(TimerFdPeriodicTimer timer)
    {
        // struct itimerspec: it_interval, then it_value, each tv_sec then tv_nsec.
        long* spec = stackalloc long[4];
        Assert.Equal(0, timerfd_gettime(timer.AsyncFd.Fd, spec));
        return (spec[0] * 1_000_000_000 + spec[1], spec[2] * 1_000_000_000 + spec[3]);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int timerfd_gettime(int fd, long* currentValue);

    [Fact]
    public void SteadyState_WaitsForATickAlreadyCounted_AllocateNothing()
    {
        using TimerFdPeriodicTimer timer = Start(TimeSpan.FromMilliseconds(1));
        int fd = timer.AsyncFd.Fd;
        int failed = 0;
        for (int i = 0; i < 20; i++)
            failed += TickAtOnce(timer, fd) ? 0 : 1;

        // The fewest of five batches: the steady state is what is asserted, and one Release run
        // counted 32 bytes once across 200 iterations, each of which blocks for a tick.
        long fewest = long.MaxValue;
        for (int batch = 0; batch < 5 && fewest != 0; batch++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
                failed += TickAtOnce(timer, fd) ? 0 : 1;
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, failed);
        Assert.Equal(0, fewest);
    }

    // Blocks in poll(2) until the kernel has counted a tick, so the wait completes at once, on this
    // thread. No asserts here: a failing one would allocate its message inside the measured loop.
    private static bool TickAtOnce(TimerFdPeriodicTimer timer, int fd)
    {
        if (!Native.TestLibC.PollsReadable(fd, (int)Bound.TotalMilliseconds))
            return false;
        ValueTask<bool> wait = timer.WaitForNextTickAsync();
        return wait.IsCompletedSuccessfully && wait.Result;
    }
}

public sealed class TimerFdPeriodicTimerTests_Epoll() : TimerFdPeriodicTimerTests(TapBackendKind.Epoll);

public sealed class TimerFdPeriodicTimerTests_IoUring() : TimerFdPeriodicTimerTests(TapBackendKind.IoUring);
