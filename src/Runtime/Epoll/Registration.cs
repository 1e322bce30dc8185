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
    public int Fd { get; } = fd;

    public CeqId Id { get; } = id;

    /// <summary>The handle kept referenced while registered (SafeHandle overloads only).</summary>
    public SafeHandle? Handle { get; } = handle;

    /// <summary>The registered mask, with EPOLLERR|EPOLLHUP added as Linux adds them.</summary>
    public EpollEvents Events { get; set; }

    public ulong Data { get; set; }

    /// <summary>
    /// Kernel epoll: among this wait's candidates, its tap fired. io_uring: in the set's user-space
    /// ready list.
    /// </summary>
    public bool Queued { get; set; }

    /// <summary>The set this registration's fd names, when it names one: an edge of the nesting graph.</summary>
    public EpollSet? Target { get; set; }

    /// <summary>The bits its tap reported in this wait.</summary>
    public EpollEvents Pending { get; set; }

    /// <summary>A one-shot registration that has reported; silent until MOD re-arms it.</summary>
    public bool Disarmed { get; set; }

    /// <summary>Its fd was closed while the file stayed open elsewhere: it reports on, unreachable by ctl.</summary>
    public bool Orphaned { get; set; }

    /// <summary>Removed from the set; ready-list entries for it are skipped.</summary>
    public bool Removed { get; set; }
}
