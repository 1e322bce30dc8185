using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Diagnostics;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen.Events;

/// <summary>
/// Akaros's coalescing event queue (CEQ) in native memory: one <see cref="CeqEvent"/> slot per id
/// whose bits posts combine into, and a ring of ids that have bits waiting. A post to an id that
/// already waits touches only its slot. When the ring is full, an overflow flag sends consumers on
/// a scan of the slots instead, so nothing posted is ever lost.
/// </summary>
/// <remarks>
/// <para>
/// Producers (<see cref="Post"/>) are lock-free and may run on any thread. Consumers
/// (<see cref="TryTake(out CeqMessage)"/>) are lock-free on the ring and never wait for one another: a consumer
/// that finds a ring position claimed but not yet written by a preempted producer raises the
/// overflow flag and moves on, and the recovery scan, which one consumer at a time runs, is taken
/// with a try-lock. A consumer that finds the scan taken returns false without waiting; callers
/// must then check <see cref="IsEmpty"/>, which stays false while a scan is due or under way,
/// before they sleep.
/// </para>
/// <para>
/// Ids come from a free list and carry a generation. An id never recurs while it may be held:
/// freed slots are reused oldest first, and a slot whose 10-bit generation wraps waits in a
/// quarantine until every id hold entered before the wrap has ended (<c>EnterIdHold</c>). The
/// holders are the kernel-epoll backend's waits (kernel events carry ids) and a set's waits, from
/// their take to their ingest; ring entries carry only a slot, and io_uring completions no id.
/// Event slots live in address space reserved
/// once and committed as ids are allocated, so the queue grows while producers post without moving
/// or copying anything, and committed memory follows the number of ids in use.
/// </para>
/// <para>
/// Differences from Akaros (akaros-notes §7.2): a stale ring entry does not end a drain; the
/// queue never looks empty while a recovery scan is due or under way; messages with no bits never
/// surface; ids are 32-bit with a generation, checked atomically with the coalesce. The header keeps
/// Akaros's <see cref="Ceq"/> layout, but ring entries are 64-bit (the slot and the lap of the
/// position they were written for, so consumers never clear a cell); <c>cons_pub_idx</c> stays
/// zero: consumers do not release ring positions in order, which is what let one stalled Akaros
/// consumer stall the rest; and <c>u_lock[0]</c> is the recovery scan's try-lock.
/// </para>
/// </remarks>
public sealed unsafe class CoalescingEventQueue : IDisposable
{
    // A slot's coalesce word holds the generation in its high half and the bits in its low half,
    // so a post checks the generation and adds its bits in one compare-and-swap: an id freed and
    // reallocated between the check and the add cannot receive the old id's bits.
    private const long BitsMask = 0xFFFF_FFFFL;
    private const int NoSlot = -1;
    private const int MaxClaimAttempts = 10;
    private const int MaxCellSpins = 64;
    private const nuint CommitGranularity = 64 * 1024;
    private const int HeaderOffset = 16;
    // The two hold counters sit a cache line apart: holds of one epoch do not slow the other's.
    private const int HolderStride = 8;

    // A ring entry is the slot and, above it, the lap of the ring position it was written for
    // (42 bits of it), so the entry tells a consumer which position it belongs to: cells are never
    // cleared, a cell holding the lap a consumer expects was written for that position, and a
    // write delayed by a preempted producer could pass for a current one only 2^42 laps later.
    private const ulong SlotMask = CeqId.MaxSlots - 1;
    private const ulong LapMask = ulong.MaxValue >> CeqId.SlotBits;
    private const ulong Unwritten = ulong.MaxValue;

    private readonly AddressReservation _events;
    private readonly byte* _headerBlock;
    private readonly Ceq* _header;
    private readonly int _ringBits;
    private long _consumerHint;
    private readonly ulong* _ring;
    private readonly int _ringMask;
    private readonly CeqOperation _operation;
    private readonly object _idLock = new();
    // Freed slots are reused oldest first, so generations advance evenly across slots and a slot
    // reaches the end of its generations (and the quarantine) as late as the free slots allow.
    private readonly Queue<int> _freeSlots = new();
    // Slots whose generation wrapped, each with the hold epoch read after its free, oldest first.
    private readonly Queue<(int Slot, long Epoch)> _quarantine = new();
    // Id holds (see EnterIdHold): the current epoch, and per epoch parity the holds entered in it.
    private long _holdEpoch;
    private readonly long[] _holders = new long[2 * HolderStride];
    private long _wokenAtEpoch = -1;
    private Action? _wakeHolders;
    // HoldTakes: the queue whose takes this thread holds; and the hold it carries, if any.
    [ThreadStatic]
    private static CoalescingEventQueue? t_takesHeldFor;
    [ThreadStatic]
    private static CoalescingEventQueue? t_heldBy;
    [ThreadStatic]
    private static long t_heldEpoch;
    private int _allocatedSlots;
    private int _idsInUse;
    private long _overflows;
    private long _recoveryScans;
    private bool _disposed;

    /// <summary>Creates an empty queue.</summary>
    /// <param name="operation">How posts to one id combine.</param>
    /// <param name="ringSize">Ring positions, a power of two: how many distinct ids may wait before the queue falls back to scanning.</param>
    /// <param name="maxIds">The most ids that can be allocated at once; reserves 32 bytes of address space each.</param>
    public CoalescingEventQueue(CeqOperation operation = CeqOperation.Or, int ringSize = 1024, int maxIds = CeqId.MaxSlots)
    {
        if (operation is not (CeqOperation.Or or CeqOperation.Add))
            throw new ArgumentOutOfRangeException(nameof(operation));
        if (ringSize < 2 || ringSize > 1 << 24 || (ringSize & (ringSize - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(ringSize), ringSize, "The ring size must be a power of two from 2 to 2^24.");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIds, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxIds, CeqId.MaxSlots);

        _operation = operation;
        _ringMask = ringSize - 1;
        _events = new AddressReservation((nuint)maxIds * (nuint)CeqEvent.NativeSize);
        // The header starts 16 bytes into a cache line, which puts prod_idx (offset 40) at the end
        // of one line and cons_pvt_idx (offset 56) in the next: producers and consumers then do
        // not write the same line on every post and take, and Akaros's layout stays as it is.
        _headerBlock = (byte*)NativeMemory.AlignedAlloc((nuint)(sizeof(Ceq) + 64), 64);
        new Span<byte>(_headerBlock, sizeof(Ceq) + 64).Clear();
        _header = (Ceq*)(_headerBlock + HeaderOffset);
        _ringBits = System.Numerics.BitOperations.Log2((uint)ringSize);
        _ring = (ulong*)NativeMemory.Alloc((nuint)ringSize, sizeof(ulong));
        new Span<ulong>(_ring, ringSize).Fill(Unwritten);
        _header->events = _events.Start;
        _header->ring = _ring;
        _header->ring_sz = (uint)ringSize;
        _header->operation = (byte)operation;
        _header->max_event_ever = -1;
        MaxIds = maxIds;
    }

    /// <summary>How posts to one id combine.</summary>
    public CeqOperation Operation => _operation;

    /// <summary>Ring positions.</summary>
    public int RingSize => _ringMask + 1;

    /// <summary>The most ids that can be allocated at once.</summary>
    public int MaxIds { get; }

    /// <summary>Ids allocated and not yet freed.</summary>
    public int IdsInUse => Volatile.Read(ref _idsInUse);

    /// <summary>Bytes of event slots committed: grows with the highest id ever allocated, in 64 KiB steps.</summary>
    public long CommittedBytes => (long)_events.Committed;

    /// <summary>Posts that found the ring full (or contended) and left their id to a recovery scan.</summary>
    public long Overflows => Volatile.Read(ref _overflows);

    /// <summary>Recovery scans started.</summary>
    public long RecoveryScans => Volatile.Read(ref _recoveryScans);

    /// <summary>
    /// True when nothing waits: the ring is empty and no recovery scan is due or under way. A false
    /// answer can be stale by the time it returns; a true one means every post that completed
    /// before the call has been taken.
    /// </summary>
    public bool IsEmpty =>
        Volatile.Read(ref _header->cons_pvt_idx) >= Volatile.Read(ref _header->prod_idx)
        && !Volatile.Read(ref _header->ring_overflowed)
        && !Volatile.Read(ref _header->overflow_recovery);

    /// <summary>
    /// Allocates an id, committing event memory when the id is the highest yet.
    /// Throws <see cref="InvalidOperationException"/> when <see cref="MaxIds"/> ids are in use.
    /// </summary>
    /// <param name="userData">Returned with every message for this id.</param>
    public CeqId Allocate(ulong userData = 0)
    {
        lock (_idLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ReleaseQuarantined();
            int slot;
            if (!_freeSlots.TryDequeue(out slot))
            {
                if (_allocatedSlots == MaxIds)
                    throw new InvalidOperationException($"All {MaxIds} CEQ ids are in use.");
                slot = _allocatedSlots;
                _events.EnsureCommitted((nuint)(slot + 1) * (nuint)CeqEvent.NativeSize, CommitGranularity);
                _header->nr_events = (uint)(_events.Committed / (nuint)CeqEvent.NativeSize);
                // Published after the commit: a post that sees the new count may touch the slot.
                Volatile.Write(ref _allocatedSlots, slot + 1);
            }
            CeqEvent* ev = Event(slot);
            ev->user_data = userData;
            _idsInUse++;
            return new CeqId(slot, (uint)((ulong)Volatile.Read(ref ev->coalesce) >> 32));
        }
    }

    /// <summary>
    /// Frees an id: bits not yet taken are dropped, and later posts with this id are refused.
    /// Returns false, changing nothing, when the id is not currently allocated.
    /// </summary>
    public bool Free(CeqId id)
    {
        lock (_idLock)
        {
            if (_disposed || id.Slot >= _allocatedSlots)
                return false;
            ref long coalesce = ref Event(id.Slot)->coalesce;
            uint generation = (id.Generation + 1) & CeqId.GenerationMask;
            long next = (long)generation << 32;
            while (true)
            {
                long old = Volatile.Read(ref coalesce);
                if ((uint)((ulong)old >> 32) != id.Generation)
                    return false;
                // Bumping the generation and clearing the bits in one step closes the slot to
                // in-flight posts of the old id. Its ring entry, if any, becomes a stale entry.
                if (Interlocked.CompareExchange(ref coalesce, next, old) == old)
                    break;
            }
            // Ids never recur while held: between the free of any id of this slot and the
            // reallocation of that id lies the free that wraps the generation to 0, and a wrapped
            // slot waits here until every hold entered up to this epoch has been exited.
            if (generation == 0)
                _quarantine.Enqueue((id.Slot, _holdEpoch));
            else
                _freeSlots.Enqueue(id.Slot);
            _idsInUse--;
            return true;
        }
    }

    /// <summary>True when <paramref name="id"/> names the current use of its slot.</summary>
    public bool IsCurrent(CeqId id) =>
        id.Slot < Volatile.Read(ref _allocatedSlots)
        && (uint)((ulong)Volatile.Read(ref Event(id.Slot)->coalesce) >> 32) == id.Generation;

    /// <summary>
    /// Starts an id hold: until <see cref="ExitIdHold"/>, no id this queue frees from now on is
    /// allocated again with the same value, so ids obtained during the hold (taken in messages,
    /// read back from the kernel) cannot name a later user of their slot. Returns the token for
    /// <see cref="ExitIdHold"/>. Lock-free; any thread may exit the hold.
    /// </summary>
    internal long EnterIdHold()
    {
        while (true)
        {
            long epoch = Volatile.Read(ref _holdEpoch);
            // Counted, then checked (Dekker with TryAdvanceEpoch, both sides full fences): either
            // the advance sees this count, or this check sees the new epoch and counts again there.
            Interlocked.Increment(ref Holders(epoch));
            if (Volatile.Read(ref _holdEpoch) == epoch)
                return epoch;
            Interlocked.Decrement(ref Holders(epoch));
        }
    }

    /// <summary>Ends a hold started by <see cref="EnterIdHold"/>.</summary>
    /// <remarks>Atomic: holds of one epoch enter and exit on many threads at once.</remarks>
    internal void ExitIdHold(long hold) => Interlocked.Decrement(ref Holders(hold));

    /// <summary>
    /// Starts the hold a kernel wait needs for the ids its kernel events carry, until they are
    /// posted (<see cref="ExitKernelHold"/>). Under <see cref="HoldTakes"/> it is the thread's take
    /// hold, started here and kept when the wait posted, so that it covers the take that follows
    /// too: one hold per wait instead of two. The thread holds no messages of this queue when it
    /// waits in the kernel (a wait returns at its first take, and its caller ingests before it
    /// waits again), so a take hold it still has covers nothing and is renewed in the current epoch.
    /// </summary>
    internal long EnterKernelHold()
    {
        if (t_takesHeldFor == this)
        {
            ReleaseTaken();
            if (StartTakeHold())
                return -1;
        }
        return EnterIdHold();
    }

    /// <summary>Ends a kernel wait's hold (<see cref="EnterKernelHold"/>); a take hold stays when the wait posted.</summary>
    internal void ExitKernelHold(long hold, bool posted)
    {
        if (hold >= 0)
            ExitIdHold(hold);
        else if (!posted)
            ReleaseTaken();
    }

    /// <summary>
    /// Until the returned scope is disposed, a take by this thread from this queue starts an id
    /// hold that covers what it took, and stays with the thread until <see cref="ReleaseTaken"/>
    /// (the scope's end does not release it). A waiter that takes and ingests later uses it.
    /// </summary>
    internal TakeHoldScope HoldTakes()
    {
        var scope = new TakeHoldScope(t_takesHeldFor);
        t_takesHeldFor = this;
        return scope;
    }

    /// <summary>Whether this thread's takes from this queue are held (see <see cref="HoldTakes"/>).</summary>
    internal bool HoldsTakesHere => t_takesHeldFor == this;

    /// <summary>
    /// Gives this thread a hold another thread entered for messages it took on this thread's
    /// behalf (an asynchronous wait's); <see cref="ReleaseTaken"/> ends it.
    /// </summary>
    internal void AdoptTakeHold(long hold)
    {
        Debug.Assert(t_heldBy is null || t_heldBy == this, "one queue's messages per thread between take and ingest");
        if (t_heldBy == this)
        {
            // The older hold covers both: it blocks every epoch the newer one blocks.
            ExitIdHold(Math.Max(hold, t_heldEpoch));
            t_heldEpoch = Math.Min(hold, t_heldEpoch);
            return;
        }
        t_heldBy = this;
        t_heldEpoch = hold;
    }

    /// <summary>Ends the hold this thread has on what it took from (or adopted for) this queue, if any.</summary>
    internal void ReleaseTaken()
    {
        if (t_heldBy != this)
            return;
        t_heldBy = null;
        ExitIdHold(t_heldEpoch);
    }

    /// <summary>Names the callback that makes this queue's longest holders exit their holds (a blocked kernel wait's wake-up).</summary>
    internal void SetHolderWake(Action? wake)
    {
        lock (_idLock)
            _wakeHolders = wake;
    }

    /// <summary>
    /// Posts <paramref name="bits"/> to <paramref name="id"/>: ORs or adds them into its slot and,
    /// unless the id already waits, queues the id. Lock-free; safe from any thread. Returns false,
    /// changing nothing, when the id is not currently allocated (freed, or never allocated).
    /// </summary>
    /// <param name="id">The id to post to.</param>
    /// <param name="bits">The bits to OR in, or the value to add. Zero posts nothing.</param>
    /// <param name="blob">Stored with the id; the latest post's blob wins.</param>
    public bool Post(CeqId id, uint bits, ulong blob = 0)
    {
        int slot = id.Slot;
        if (slot >= Volatile.Read(ref _allocatedSlots))
            return false;
        CeqEvent* ev = Event(slot);
        if (bits == 0)
            return (uint)((ulong)Volatile.Read(ref ev->coalesce) >> 32) == id.Generation;

        // Raised before the bits land, so a recovery scan bounded by it always covers this slot.
        RaiseMaxEventEver(slot);
        while (true)
        {
            long old = Volatile.Read(ref ev->coalesce);
            if ((uint)((ulong)old >> 32) != id.Generation)
                return false;
            uint merged = _operation == CeqOperation.Or ? (uint)old | bits : unchecked((uint)old + bits);
            if (Interlocked.CompareExchange(ref ev->coalesce, (old & ~BitsMask) | merged, old) == old)
                break;
        }
        Volatile.Write(ref ev->blob_data, blob);

        // Dekker handshake with TakeBits: the CAS above is a full fence before this read of
        // idx_posted, as the consumer's clear of idx_posted is before its swap of the bits. Either
        // the consumer's swap collects these bits, or this producer sees the clear and queues the id.
        // The plain read spares the common coalesced post an atomic; the exchange then makes sure
        // only one of several racing producers queues the id.
        ref byte posted = ref PostedFlag(ev);
        bool coalesced = Volatile.Read(ref posted) != 0 || Interlocked.Exchange(ref posted, 1) != 0;
        if (!coalesced)
            Enqueue(slot);
        if (EpollGenMetrics.CeqPosts.Enabled)
            EpollGenMetrics.CeqPosts.Add(1);
        if (coalesced && EpollGenMetrics.CeqCoalescedPosts.Enabled)
            EpollGenMetrics.CeqCoalescedPosts.Add(1);
        return true;
    }

    /// <summary>
    /// Takes one waiting id and its bits. Returns false when nothing waits, or when the only work
    /// left is a recovery scan another consumer is running; check <see cref="IsEmpty"/> before sleeping.
    /// </summary>
    public bool TryTake(out CeqMessage message)
    {
        if (SkipsEmptyTake())
        {
            message = default;
            return false;
        }
        bool held = StartTakeHold();
        bool taken = TakeOne(out message);
        if (held && !taken)
            ReleaseTaken();
        return taken;
    }

    private bool TakeOne(out CeqMessage message)
    {
        while (true)
        {
            // Stale ring entries (ids a recovery scan or a free already emptied) do not end the drain.
            while (TryDequeueSlot(out int slot))
            {
                if (TakeBits(slot, out message))
                    return true;
            }
            if (TryRecover(out message))
                return true;
            // Posts may have reached the ring while the scan ran; false only once it is empty.
            if (Volatile.Read(ref _header->cons_pvt_idx) >= Volatile.Read(ref _header->prod_idx))
                return false;
        }
    }

    /// <summary>Takes up to <paramref name="messages"/>.Length messages; returns how many.</summary>
    public int TryTake(Span<CeqMessage> messages)
    {
        if (SkipsEmptyTake())
            return 0;
        bool held = StartTakeHold();
        int taken = TakeMany(messages);
        if (held && taken == 0)
            ReleaseTaken();
        return taken;
    }

    private int TakeMany(Span<CeqMessage> messages)
    {
        int taken = 0;
        long claimed;
        // Claim every waiting position the buffer can hold with one CAS, then read them in order.
        while (taken < messages.Length && (claimed = ClaimPositions(messages.Length - taken, out long first)) > 0)
        {
            for (long p = first; p < first + claimed; p++)
            {
                if (TryReadClaimed(p, out int slot) && TakeBits(slot, out CeqMessage message))
                    messages[taken++] = message;
            }
        }
        // A recovery scan by the one-at-a-time path. Its flags share the line ClaimPositions just
        // read when it found the ring empty, so checking them first costs no cache miss.
        if (taken < messages.Length && RecoveryDue)
        {
            while (taken < messages.Length && TakeOne(out CeqMessage last))
                messages[taken++] = last;
        }
        return taken;
    }

    /// <summary>
    /// Frees the native memory. The caller must ensure no post or take runs concurrently or later;
    /// the layers above retire a queue only after its producers are gone.
    /// </summary>
    public void Dispose()
    {
        lock (_idLock)
        {
            if (_disposed)
                return;
            _disposed = true;
            Volatile.Write(ref _allocatedSlots, 0);
        }
        _events.Dispose();
        NativeMemory.Free(_ring);
        NativeMemory.AlignedFree(_headerBlock);
    }

    // Under HoldTakes, a take that would start the thread's hold first looks whether anything
    // waits: one that finds nothing obtains no id and needs no hold, and the hold's counter is
    // written by every thread that waits on the queue. A post the look misses had not completed
    // when it began (see IsEmpty), and a take may miss such a post too.
    private bool SkipsEmptyTake() => t_takesHeldFor == this && t_heldBy is null && IsEmpty;

    // Under HoldTakes, a take starts the thread's hold before it reads a slot: an id it obtains
    // was then obtained inside the hold. True when this call started it.
    private bool StartTakeHold()
    {
        if (t_takesHeldFor != this || t_heldBy is not null)
            return false;
        t_heldEpoch = EnterIdHold();
        t_heldBy = this;
        return true;
    }

    private ref long Holders(long epoch) => ref _holders[(int)(epoch & 1) * HolderStride];

    // Under _idLock. Frees the oldest quarantined slot once two epochs have passed since its free:
    // holds are entered in the current epoch, so the advance to its epoch + 2, which waits for the
    // holds of its epoch to end, leaves none that began before the free. At most one advance and one
    // release per call, so Allocate stays O(1); each free quarantines at most one slot.
    private void ReleaseQuarantined()
    {
        if (!_quarantine.TryPeek(out (int Slot, long Epoch) oldest))
            return;
        if (_holdEpoch < oldest.Epoch + 2)
            TryAdvanceEpoch();
        if (_holdEpoch < oldest.Epoch + 2)
            return;
        _quarantine.Dequeue();
        _freeSlots.Enqueue(oldest.Slot);
    }

    // Under _idLock, the only writer of _holdEpoch. Holds of the previous epoch count in the
    // counter the next epoch's holds will use, so the advance waits for them to end; a blocked
    // kernel wait is woken (once per epoch) so that it leaves its hold and enters a newer one.
    private void TryAdvanceEpoch()
    {
        long epoch = _holdEpoch;
        // Read after the previous advance's full fence, so a hold that confirmed that epoch is seen.
        if (Volatile.Read(ref Holders(epoch + 1)) != 0)
        {
            if (_wokenAtEpoch != epoch)
            {
                _wokenAtEpoch = epoch;
                _wakeHolders?.Invoke();
            }
            return;
        }
        // A full fence between the new epoch and the next advance's read of the counters: the
        // other half of EnterIdHold's Dekker handshake.
        Interlocked.Increment(ref _holdEpoch);
    }

    private bool RecoveryDue =>
        Volatile.Read(ref _header->ring_overflowed) || Volatile.Read(ref _header->overflow_recovery);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private CeqEvent* Event(int slot) => (CeqEvent*)_events.Start + slot;

    private static ref byte PostedFlag(CeqEvent* ev) => ref Unsafe.As<bool, byte>(ref ev->idx_posted);

    private void RaiseMaxEventEver(int slot)
    {
        ref long max = ref _header->max_event_ever;
        long seen = Volatile.Read(ref max);
        while (slot > seen)
        {
            long raced = Interlocked.CompareExchange(ref max, slot, seen);
            if (raced == seen)
                return;
            seen = raced;
        }
    }

    // Claims the next ring position and writes the slot into it. A full ring or a contended claim
    // ends with the overflow flag, which sends a consumer on a scan that finds this slot by its
    // idx_posted. The write needs no atomic: the lap in the entry says which position it is for.
    private void Enqueue(int slot)
    {
        ref long producer = ref _header->prod_idx;
        for (int attempt = 0; attempt < MaxClaimAttempts; attempt++)
        {
            long position = Volatile.Read(ref producer);
            // The fullness test reads the consumers' index only when a cached copy says the ring is
            // full: reading a line the consumer writes on every take would cost a cache miss per
            // post. An entry that overtakes one claimed but not yet read is caught by its lap.
            if (position - Volatile.Read(ref _consumerHint) > _ringMask)
            {
                long consumer = Volatile.Read(ref _header->cons_pvt_idx);
                Volatile.Write(ref _consumerHint, consumer);
                if (position - consumer > _ringMask)
                    break;
            }
            if (Interlocked.CompareExchange(ref producer, position + 1, position) != position)
                continue;
            Volatile.Write(ref _ring[position & _ringMask], Lap(position) << CeqId.SlotBits | (uint)slot);
            return;
        }
        Interlocked.Increment(ref _overflows);
        if (EpollGenMetrics.CeqOverflows.Enabled)
            EpollGenMetrics.CeqOverflows.Add(1);
        Volatile.Write(ref _header->ring_overflowed, true);
    }

    private bool TryDequeueSlot(out int slot)
    {
        while (ClaimPositions(1, out long position) == 1)
        {
            if (TryReadClaimed(position, out slot))
                return true;
        }
        slot = NoSlot;
        return false;
    }

    // Claims up to `most` ring positions that producers have claimed, with one CAS; returns how
    // many (0 when none wait), the first at `first`. Cells already written for their position are
    // claimed without reading the producers' index, whose line a producer writes on every post.
    private long ClaimPositions(long most, out long first)
    {
        ref long consumer = ref _header->cons_pvt_idx;
        while (true)
        {
            first = Volatile.Read(ref consumer);
            long claim = 0;
            while (claim < most && Written(first + claim))
                claim++;
            if (claim == 0)
            {
                long available = Volatile.Read(ref _header->prod_idx) - first;
                if (available <= 0)
                    return 0;
                claim = Math.Min(available, most);
            }
            if (Interlocked.CompareExchange(ref consumer, first + claim, first) == first)
                return claim;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Lap(long position) => ((ulong)position >> _ringBits) & LapMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Written(long position) =>
        Volatile.Read(ref _ring[position & _ringMask]) >> CeqId.SlotBits == Lap(position);

    // Reads the entry of a claimed position. A cell still holding an earlier lap's entry has not
    // been written yet; one holding a later lap's was overwritten by a producer that found the
    // ring not full once this position was claimed. Rather than wait for a thread that may be
    // preempted, both leave the missing id to a recovery scan, which finds it by its idx_posted.
    private bool TryReadClaimed(long position, out int slot)
    {
        // A producer between its claim and its write is usually nanoseconds from writing: a short,
        // bounded spin spares a recovery scan in the common case without waiting on a preempted thread.
        for (int spin = 0; spin < MaxCellSpins && !Written(position); spin++)
            Thread.SpinWait(1);
        ulong entry = Volatile.Read(ref _ring[position & _ringMask]);
        if (entry >> CeqId.SlotBits != Lap(position))
        {
            Volatile.Write(ref _header->ring_overflowed, true);
            slot = NoSlot;
            return false;
        }
        slot = (int)(entry & SlotMask);
        return true;
    }

    // Clears idx_posted, then swaps the bits out (keeping the generation). A slot with nothing to
    // give yields no message: Akaros's empty messages never surface.
    private bool TakeBits(int slot, out CeqMessage message)
    {
        CeqEvent* ev = Event(slot);
        message = default;
        if (Volatile.Read(ref PostedFlag(ev)) == 0)
            return false;
        Volatile.Write(ref PostedFlag(ev), 0);
        long old;
        while (true)
        {
            old = Volatile.Read(ref ev->coalesce);
            if ((uint)old == 0)
                return false;
            // A full fence: the clear of idx_posted above is visible before the bits are taken.
            if (Interlocked.CompareExchange(ref ev->coalesce, old & ~BitsMask, old) == old)
                break;
        }
        ulong blob = Volatile.Read(ref ev->blob_data);
        if (blob != 0)
            blob = Interlocked.Exchange(ref ev->blob_data, 0);
        message = new CeqMessage(new CeqId(slot, (uint)((ulong)old >> 32)), (uint)old, blob, Volatile.Read(ref ev->user_data));
        return true;
    }

    // The overflow recovery scan, resumable across calls: it walks the slots up to the highest ever
    // posted, from where the last scanning consumer stopped, and returns at the first with bits.
    // One consumer scans at a time; others do not wait for it (see the class remarks).
    private bool TryRecover(out CeqMessage message)
    {
        message = default;
        if (!RecoveryDue)
            return false;
        ref uint scanLock = ref _header->u_lock[0];
        if (Interlocked.CompareExchange(ref scanLock, 1, 0) != 0)
            return false;
        try
        {
            while (true)
            {
                if (!Volatile.Read(ref _header->overflow_recovery))
                {
                    if (!Volatile.Read(ref _header->ring_overflowed))
                        return false;
                    // Recovery is marked before the overflow flag drops, so IsEmpty never sees neither.
                    Volatile.Write(ref _header->overflow_recovery, true);
                    Volatile.Write(ref _header->ring_overflowed, false);
                    _header->last_recovered = 0;
                    Interlocked.Increment(ref _recoveryScans);
                    if (EpollGenMetrics.CeqRecoveryScans.Enabled)
                        EpollGenMetrics.CeqRecoveryScans.Add(1);
                    // Store-load fence: the cleared overflow flag is visible before the scan reads
                    // slots, so an overflow raised after this point is seen when the scan ends.
                    Interlocked.MemoryBarrier();
                }
                long last = Volatile.Read(ref _header->max_event_ever);
                while (_header->last_recovered <= last)
                {
                    int slot = (int)_header->last_recovered++;
                    if (TakeBits(slot, out message))
                        return true;
                }
                // An overflow raised during the scan may concern a slot behind the cursor: the
                // loop starts another scan rather than report nothing while work waits.
                Volatile.Write(ref _header->overflow_recovery, false);
            }
        }
        finally
        {
            Volatile.Write(ref scanLock, 0);
        }
    }

    /// <summary>The extent of a <see cref="HoldTakes"/>; disposing it restores the thread's previous one.</summary>
    internal readonly struct TakeHoldScope(CoalescingEventQueue? previous) : IDisposable
    {
        /// <inheritdoc/>
        public void Dispose() => t_takesHeldFor = previous;
    }
}
