using System.Collections.Generic;
using System.Threading;
using EpollGen.Events;
using Xunit;

namespace EpollGen.Runtime.Tests.Events;

/// <summary>
/// Ids do not recur while held: freed slots are reused oldest first, and a slot whose 10-bit
/// generation wraps waits until every id hold entered before the wrap has ended.
/// </summary>
[Collection(CeqThreadedCollection.Name)]
public class CeqIdRecurrenceTests
{
    // Enough cycles for the generation of one slot to wrap three times.
    private const int Cycles = 3 * 1024 + 7;

    [Fact]
    public void FreedSlots_AreReusedOldestFirst()
    {
        using var queue = new CoalescingEventQueue();
        CeqId first = queue.Allocate();
        CeqId second = queue.Allocate();
        CeqId third = queue.Allocate();
        queue.Free(first);
        queue.Free(third);
        queue.Free(second);

        Assert.Equal(first.Slot, queue.Allocate().Slot);
        Assert.Equal(third.Slot, queue.Allocate().Slot);
        Assert.Equal(second.Slot, queue.Allocate().Slot);
    }

    [Fact]
    public void CyclesOfOneSlot_NeverReissueAnIdATakerStillHolds()
    {
        using var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();
        Assert.True(queue.Post(id, 1));
        CeqMessage held;
        using (queue.HoldTakes())
            Assert.True(queue.TryTake(out held));

        var issued = new HashSet<uint>();
        for (int cycle = 0; cycle < Cycles; cycle++)
        {
            Assert.True(queue.Free(id));
            id = queue.Allocate();
            Assert.NotEqual(held.Id, id);
            issued.Add(id.Value);
        }

        // Every value was fresh: the wrapped slot stayed out of use, and the cycles moved on.
        Assert.Equal(Cycles, issued.Count);
        Assert.Equal(1, queue.IdsInUse);
        queue.ReleaseTaken();
    }

    [Fact]
    public void HoldFromAnotherThread_KeepsItsIdsFromRecurring_UntilItEnds()
    {
        using var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();
        long hold = -1;
        var holder = new Thread(() => hold = queue.EnterIdHold());
        holder.Start();
        holder.Join();
        CeqId held = id;

        for (int cycle = 0; cycle < Cycles; cycle++)
        {
            Assert.True(queue.Free(id));
            id = queue.Allocate();
            Assert.NotEqual(held, id);
        }

        queue.ExitIdHold(hold);
        // With the hold gone the quarantined slots come back: the held id's slot is reused and
        // its ids recur again, as the generation's 10 bits must once nothing holds them.
        bool slotBack = false;
        for (int cycle = 0; cycle < 4 * 1024 && !slotBack; cycle++)
        {
            Assert.True(queue.Free(id));
            id = queue.Allocate();
            slotBack = id.Slot == held.Slot;
        }
        Assert.True(slotBack, "the quarantined slot never came back after the hold ended");
    }

    [Fact]
    public void WithoutHolds_OneSlotCyclesForever_AndMemoryStaysFlat()
    {
        using var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();
        long committed = queue.CommittedBytes;
        var slots = new HashSet<int>();

        for (int cycle = 0; cycle < 8 * 1024; cycle++)
        {
            Assert.True(queue.Free(id));
            id = queue.Allocate();
            slots.Add(id.Slot);
        }

        // A wrap with no hold costs at most a slot or two while the epoch advances.
        Assert.True(slots.Count <= 3, $"{slots.Count} slots used for one id");
        Assert.Equal(committed, queue.CommittedBytes);
    }

    [Fact]
    public void HoldThatBlocksTheQuarantine_IsWokenToLetGo()
    {
        using var queue = new CoalescingEventQueue();
        CeqId id = queue.Allocate();
        long hold = queue.EnterIdHold();
        int wakes = 0;
        // The woken holder (a kernel wait, in the runtime) leaves its hold and enters a newer one.
        queue.SetHolderWake(() =>
        {
            wakes++;
            queue.ExitIdHold(hold);
            hold = queue.EnterIdHold();
        });

        var slots = new HashSet<int>();
        for (int cycle = 0; cycle < 8 * 1024; cycle++)
        {
            Assert.True(queue.Free(id));
            id = queue.Allocate();
            slots.Add(id.Slot);
        }

        Assert.InRange(wakes, 1, 64);
        Assert.True(slots.Count <= 3, $"{slots.Count} slots used for one id");
        queue.SetHolderWake(null);
        queue.ExitIdHold(hold);
    }
}
