using System.Diagnostics.Metrics;

namespace EpollGen.Diagnostics;

/// <summary>
/// EpollGen's counters, on one <see cref="Meter"/> named <c>EpollGen</c> that dotnet-counters and
/// OpenTelemetry can listen to. Hot paths test <see cref="Instrument.Enabled"/> first, so a counter
/// nobody listens to costs one read of a flag.
/// </summary>
public static class EpollGenMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "EpollGen";

    /// <summary>The meter all EpollGen instruments belong to.</summary>
    public static Meter Meter { get; } = new(MeterName);

    /// <summary>Posts a CEQ accepted (<c>epollgen.ceq.posts</c>).</summary>
    public static Counter<long> CeqPosts { get; } = Meter.CreateCounter<long>("epollgen.ceq.posts", "{post}", "Posts a CEQ accepted");

    /// <summary>Posts that merged into an id already waiting, touching only its slot (<c>epollgen.ceq.coalesced_posts</c>).</summary>
    public static Counter<long> CeqCoalescedPosts { get; } = Meter.CreateCounter<long>("epollgen.ceq.coalesced_posts", "{post}", "Posts merged into an id already waiting");

    /// <summary>Posts whose id the ring could not take, left to a recovery scan (<c>epollgen.ceq.overflows</c>).</summary>
    public static Counter<long> CeqOverflows { get; } = Meter.CreateCounter<long>("epollgen.ceq.overflows", "{post}", "Posts left to a recovery scan");

    /// <summary>Recovery scans started (<c>epollgen.ceq.recovery_scans</c>).</summary>
    public static Counter<long> CeqRecoveryScans { get; } = Meter.CreateCounter<long>("epollgen.ceq.recovery_scans", "{scan}", "CEQ recovery scans started");

    /// <summary>
    /// io_uring tap polls armed again because the kernel ended them, most often because a
    /// completion found the CQ ring full (<c>epollgen.tap.rearms</c>).
    /// </summary>
    public static Counter<long> TapRearms { get; } = Meter.CreateCounter<long>("epollgen.tap.rearms", "{rearm}", "io_uring tap polls re-armed after the kernel ended them");

    /// <summary>
    /// Times a post or a tap woke a waiter of an event queue (<c>epollgen.queue.wakeups</c>): the
    /// kernel waiter, a sleeping thread, a thread waiting on several queues, or the engine of the
    /// asynchronous waiters. A post counts each waiter it signals; a tap counts once per kernel
    /// wait it ended by posting.
    /// </summary>
    public static Counter<long> QueueWakeups { get; } = Meter.CreateCounter<long>("epollgen.queue.wakeups", "{wakeup}", "Waiters a post or a tap woke");
}
