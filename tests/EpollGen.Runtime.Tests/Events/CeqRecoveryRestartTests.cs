using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>A recovery scan that ends with an overflow raised behind its cursor starts another.</summary>
public class CeqRecoveryRestartTests
{
    [Fact]
    public void OverflowBehindARunningScan_IsFoundBeforeTryTakeReturnsFalse()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize: 2);
        CeqId[] ids = { queue.Allocate(), queue.Allocate(), queue.Allocate(), queue.Allocate() };
        foreach (CeqId id in ids)
            queue.Post(id, 1);                  // 0 and 1 into the ring, 2 and 3 overflow
        Assert.True(queue.TryTake(out _));      // 0 (ring)
        Assert.True(queue.TryTake(out _));      // 1 (ring)
        Assert.True(queue.TryTake(out CeqMessage m));   // scan starts, finds 2, stops at slot 3
        Assert.Equal(ids[2], m.Id);

        queue.Post(ids[0], 1);                  // ring
        queue.Post(ids[1], 1);                  // ring (now full)
        queue.Post(ids[2], 4);                  // overflows; slot 2 is behind the scan

        Assert.True(queue.TryTake(out _));      // 0 (ring)
        Assert.True(queue.TryTake(out _));      // 1 (ring)
        Assert.True(queue.TryTake(out m));      // scan resumes: 3
        Assert.Equal(ids[3], m.Id);

        // Only this thread consumes, so false must mean nothing waits; but slot 2 still has bit 4.
        Assert.True(queue.TryTake(out m), $"TryTake returned false; IsEmpty={queue.IsEmpty}");
        Assert.Equal(new CeqMessage(ids[2], 4, 0, 0), m);
    }
}
