using EpollGen.Interop;

namespace EpollGen.Taps;

/// <summary>
/// One fd's taps in the io_uring backend and what the kernel was asked to do for them. Every
/// field is read and written under the backend's lock only.
/// </summary>
internal sealed class IoUringFdEntry(int fd)
{
    public int Fd { get; } = fd;

    /// <summary>The taps completions of <see cref="Data"/> reach; replaced whole, never edited in place.</summary>
    public Tap[] Taps { get; set; } = [];

    /// <summary>
    /// The user data of the poll whose completions reach <see cref="Taps"/>, or 0 when none is armed
    /// or queued. Every arm and update gets fresh user data, so completions of earlier polls (and of
    /// earlier files on this fd number) never match it.
    /// </summary>
    public ulong Data { get; set; }

    /// <summary>The poll mask <see cref="Data"/> was armed or last updated with.</summary>
    public PollEvents ArmedMask { get; set; }

    /// <summary>Whether <see cref="Data"/> was armed with EPOLLEXCLUSIVE, which an update cannot change.</summary>
    public bool ArmedExclusive { get; set; }

    /// <summary>
    /// A POLL_UPDATE from <see cref="UpdateFrom"/> to <see cref="Data"/> is in flight: until its
    /// completion arrives, either user data may name the live poll.
    /// </summary>
    public bool UpdateInFlight { get; set; }

    /// <summary>The user data an in-flight update replaces.</summary>
    public ulong UpdateFrom { get; set; }

    /// <summary>An ADD or MOD wants the kernel to report the fd's current readiness again.</summary>
    public bool Reread { get; set; }

    /// <summary>In the backend's list of entries whose kernel side must catch up with their taps.</summary>
    public bool Dirty { get; set; }

    /// <summary>
    /// The fd is the runtime's own (an io_uring set's proxy), tapped without the shadow: no program
    /// can close or reuse its number, and a shadow item would add a level of nesting to the
    /// kernel's picture of the set.
    /// </summary>
    public bool Private { get; set; }

    /// <summary>
    /// The thread that armed the live poll: its task_work posts the poll's completions (an update
    /// keeps the poll's thread; a thread's exit cancels the polls it armed).
    /// </summary>
    public System.Threading.Thread? ArmedBy { get; set; }

    /// <summary>Whether a poll is armed or queued for this entry.</summary>
    public bool Armed => Data != 0;
}
