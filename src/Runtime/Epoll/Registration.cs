using System.Runtime.InteropServices;
using EpollGen.Events;
using EpollGen.Interop;

namespace EpollGen;

/// <summary>
/// One entry of a set's interest list: the fd, the mask and data of the latest ADD or MOD, the CEQ
/// id its tap posts to, and where it stands in the ready list. Guarded by the set's lock.
/// </summary>
internal sealed class Registration(int fd, CeqId id, SafeHandle? handle)
{
    // Pending in the low 16 bits (it only holds bits poll(2) reports, all below 0x4000) and the
    // flags above them: one word rather than a word and four bools, which takes the object from 64
    // to 56 bytes, and there is one per registration.
    private const uint PendingMask = 0xFFFF;
    private const uint QueuedFlag = 1u << 16;
    private const uint DisarmedFlag = 1u << 17;
    private const uint OrphanedFlag = 1u << 18;
    private const uint RemovedFlag = 1u << 19;
    private const uint DeafFlag = 1u << 20;

    private uint _state;

    public int Fd { get; } = fd;

    public CeqId Id { get; } = id;

    /// <summary>The handle kept referenced while registered (SafeHandle overloads only).</summary>
    public SafeHandle? Handle { get; } = handle;

    /// <summary>The registered mask, with EPOLLERR|EPOLLHUP added as Linux adds them.</summary>
    public EpollEvents Events { get; set; }

    public ulong Data { get; set; }

    /// <summary>The set this registration's fd names, when it names one.</summary>
    public NestedTarget? Nested { get; set; }

    /// <summary>The set this registration's fd names, when it names one: an edge of the nesting graph.</summary>
    public EpollSet? Target => Nested?.Set;

    /// <summary>The bits its tap reported in this wait (poll(2)'s bits only).</summary>
    public EpollEvents Pending
    {
        get => (EpollEvents)(_state & PendingMask);
        set => _state = (_state & ~PendingMask) | ((uint)value & PendingMask);
    }

    /// <summary>
    /// Kernel epoll: among this wait's candidates, its tap fired. io_uring: in the set's user-space
    /// ready list.
    /// </summary>
    public bool Queued
    {
        get => Has(QueuedFlag);
        set => Set(QueuedFlag, value);
    }

    /// <summary>A one-shot registration that has reported; silent until MOD re-arms it.</summary>
    public bool Disarmed
    {
        get => Has(DisarmedFlag);
        set => Set(DisarmedFlag, value);
    }

    /// <summary>Its fd was closed while the file stayed open elsewhere: it reports on, unreachable by ctl.</summary>
    public bool Orphaned
    {
        get => Has(OrphanedFlag);
        set => Set(OrphanedFlag, value);
    }

    /// <summary>Removed from the set; ready-list entries for it are skipped.</summary>
    public bool Removed
    {
        get => Has(RemovedFlag);
        set => Set(RemovedFlag, value);
    }

    /// <summary>
    /// io_uring sets: the fd is an epoll instance and the mask lacks EPOLLIN. An epoll instance
    /// wakes its pollers with EPOLLIN alone (fs/eventpoll.c, ep_poll_safewake), so Linux never
    /// queues such a registration on a wake-up: only ADD and MOD find it ready. Its tap's
    /// completions (a re-armed poll's first report, above all) are not wake-ups and are dropped.
    /// </summary>
    public bool Deaf
    {
        get => Has(DeafFlag);
        set => Set(DeafFlag, value);
    }

    private bool Has(uint flag) => (_state & flag) != 0;

    private void Set(uint flag, bool value) => _state = value ? _state | flag : _state & ~flag;
}
