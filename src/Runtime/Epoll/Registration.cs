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
    private const uint NamesEpollFlag = 1u << 20;
    private const uint EpollKnownFlag = 1u << 21;
    private const uint ProxiedFlag = 1u << 22;

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
    /// io_uring sets: whether the fd names an epoll instance, learnt once (<see cref="EpollKnown"/>),
    /// when a registration without EPOLLIN first hears from its tap. An epoll instance wakes its
    /// pollers with EPOLLIN alone (fs/eventpoll.c, ep_poll_safewake), so Linux never queues such a
    /// registration on a wake-up: only ADD and MOD find it ready.
    /// </summary>
    public bool NamesEpoll
    {
        get => Has(NamesEpollFlag);
        set => Set(NamesEpollFlag, value);
    }

    /// <summary>Whether <see cref="NamesEpoll"/> has been learnt.</summary>
    public bool EpollKnown
    {
        get => Has(EpollKnownFlag);
        set => Set(EpollKnownFlag, value);
    }

    /// <summary>
    /// io_uring sets: its fd was closed (through EpollGen), and a proxy epoll instance of the set's
    /// own, polled by the ring, watches its file instead; <see cref="Pending"/> then holds only what
    /// a harvest of the proxy took but could not report.
    /// </summary>
    public bool Proxied
    {
        get => Has(ProxiedFlag);
        set => Set(ProxiedFlag, value);
    }

    private bool Has(uint flag) => (_state & flag) != 0;

    private void Set(uint flag, bool value) => _state = value ? _state | flag : _state & ~flag;
}
