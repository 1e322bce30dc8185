using System;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>Constructor arguments and the id limit.</summary>
public class CeqLimitsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(1000)]
    [InlineData(-4)]
    [InlineData(1 << 25)]
    public void RingSizeNotAPowerOfTwoFrom2To2Pow24_IsRejected(int ringSize)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new CoalescingEventQueue(CeqOperation.Or, ringSize));
        Assert.Equal("ringSize", e.ParamName);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1 << 24)]
    public void RingSizeAtTheLimits_IsAccepted(int ringSize)
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize, maxIds: 1);
        Assert.Equal(ringSize, queue.RingSize);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(CeqId.MaxSlots + 1)]
    public void MaxIdsOutOfRange_IsRejected(int maxIds)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new CoalescingEventQueue(CeqOperation.Or, 4, maxIds));
        Assert.Equal("maxIds", e.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(255)]
    public void UnknownOperation_IsRejected(byte operation)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new CoalescingEventQueue((CeqOperation)operation));
        Assert.Equal("operation", e.ParamName);
    }

    [Fact]
    public void AllocateBeyondMaxIds_ThrowsUntilAnIdIsFreed()
    {
        using var queue = new CoalescingEventQueue(CeqOperation.Or, ringSize: 4, maxIds: 3);
        CeqId a = queue.Allocate();
        queue.Allocate();
        queue.Allocate();

        Assert.Throws<InvalidOperationException>(() => queue.Allocate());
        Assert.Equal(3, queue.IdsInUse);

        queue.Free(a);
        CeqId again = queue.Allocate();
        Assert.Equal(a.Slot, again.Slot);
        Assert.Throws<InvalidOperationException>(() => queue.Allocate());
    }

    [Fact]
    public void UseAfterDispose_AllocateThrowsAndPostIsRefused()
    {
        var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();
        queue.Dispose();

        Assert.Throws<ObjectDisposedException>(() => queue.Allocate());
        Assert.False(queue.Free(id));
        queue.Dispose();
    }
}
