using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Diagnostics.Metrics;
using EpollGen.Diagnostics;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Diagnostics;

public sealed class EpollGenMetricsTests
{
    [Fact]
    public void CeqCounters_ReachAListenerOfTheEpollGenMeter()
    {
        // Other tests post concurrently; count only this queue's work by running it alone on the
        // listener's thread and summing per instrument what this test caused.
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EpollGenMetrics.MeterName)
                l.EnableMeasurementEvents(instrument);
        };
        int testThread = Environment.CurrentManagedThreadId;
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (Environment.CurrentManagedThreadId == testThread)
                totals.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value);
        });
        listener.Start();

        using var queue = new CoalescingEventQueue(ringSize: 2);
        CeqId[] ids = Enumerable.Range(0, 4).Select(_ => queue.Allocate()).ToArray();
        foreach (CeqId id in ids)
            queue.Post(id, 1);
        queue.Post(ids[0], 2);
        while (queue.TryTake(out _))
        {
        }

        Assert.Equal(5, totals.GetValueOrDefault("epollgen.ceq.posts"));
        Assert.Equal(1, totals.GetValueOrDefault("epollgen.ceq.coalesced_posts"));
        Assert.Equal(2, totals.GetValueOrDefault("epollgen.ceq.overflows"));
        Assert.Equal(1, totals.GetValueOrDefault("epollgen.ceq.recovery_scans"));
        Assert.True(queue.IsEmpty);
    }
}
