using System;
using System.Diagnostics.Metrics;
using System.Threading;
using EpollGen.Diagnostics;

namespace EpollGen.Echo.Report;

/// <summary>CEQ counter totals at one moment.</summary>
public readonly record struct CeqSnapshot(long Posts, long CoalescedPosts, long Overflows, long RecoveryScans)
{
    public static CeqSnapshot operator -(CeqSnapshot a, CeqSnapshot b) =>
        new(a.Posts - b.Posts, a.CoalescedPosts - b.CoalescedPosts, a.Overflows - b.Overflows, a.RecoveryScans - b.RecoveryScans);
}

/// <summary>
/// Totals of the CEQ instruments on the <c>EpollGen</c> meter, read the way any tool would, through
/// a <see cref="MeterListener"/>. The callback runs on the posting thread; one Interlocked add keeps it cheap.
/// </summary>
public sealed class CeqCounters : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly long[] _totals = new long[4];

    public CeqCounters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != EpollGenMetrics.MeterName)
                return;
            int slot = instrument.Name switch
            {
                "epollgen.ceq.posts" => 0,
                "epollgen.ceq.coalesced_posts" => 1,
                "epollgen.ceq.overflows" => 2,
                "epollgen.ceq.recovery_scans" => 3,
                _ => -1,
            };
            if (slot >= 0)
                listener.EnableMeasurementEvents(instrument, slot);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, state) => Interlocked.Add(ref _totals[(int)state!], value));
        _listener.Start();
    }

    public CeqSnapshot Snapshot() => new(
        Volatile.Read(ref _totals[0]), Volatile.Read(ref _totals[1]), Volatile.Read(ref _totals[2]), Volatile.Read(ref _totals[3]));

    public void Dispose() => _listener.Dispose();
}
