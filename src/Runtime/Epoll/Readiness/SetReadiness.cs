using System;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Native;
using EpollGen.Taps;

namespace EpollGen;

/// <summary>
/// The part of an epoll set that depends on its tap backend: it creates the backend and the set's
/// queue, carries out ctl on the set's registrations, and turns the taps' posts into the events a
/// wait reports; one subclass per backend, chosen when the set is created.
/// </summary>
/// <remarks>
/// Locking, stated once for every subclass: each member runs under the set's lock, which the set
/// takes (ctl, wait, close), unless its comment says it takes that lock itself; a readiness
/// object has no lock of its own. Where one set's lock is taken under another's, the set holding
/// the registration comes first (parent first).
/// </remarks>
internal abstract class SetReadiness
{
    protected const EpollEvents AlwaysReported = EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP;

    // What poll(2) can report, bit for bit the same values as epoll's (EPOLLMSG is never reported).
    protected const EpollEvents Pollable = EpollEvents.EPOLLIN | EpollEvents.EPOLLPRI | EpollEvents.EPOLLOUT
        | EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP | EpollEvents.EPOLLRDNORM | EpollEvents.EPOLLRDBAND
        | EpollEvents.EPOLLWRNORM | EpollEvents.EPOLLWRBAND | EpollEvents.EPOLLRDHUP;

    protected const int MessageBatch = 64;

    // The user data of ids that name no registration: no fd has this number.
    protected const ulong NoFd = int.MaxValue;

    protected SetReadiness(EpollSet set, Lock setLock)
    {
        Set = set;
        SetLock = setLock;
    }

    /// <summary>The set's event queue, created with the backend (see <see cref="CreateQueue"/>).</summary>
    public EventQueue Queue { get; private set; } = null!;

    /// <summary>The kernel fd that names the set.</summary>
    public abstract int Fd { get; }

    /// <summary>Whether edge-triggered registrations are reported as their taps said, unchecked.</summary>
    public virtual bool TrustsTaps => false;

    /// <summary>How many registrations the set holds; read without the lock.</summary>
    public int Count => Registrations.Count;

    /// <summary>Whether a delivery reads <see cref="EpollSet.Waiters"/>: the set counts its waiters only then.</summary>
    public virtual bool ReadsWaiters => false;

    /// <summary>This set's io_uring readiness when it is an io_uring set, for a set it is registered in.</summary>
    public virtual IoUringReadiness? Ring => null;

    protected EpollSet Set { get; }

    // The set's lock, taken here only by the members a set this one is registered in calls.
    protected Lock SetLock { get; }

    protected InterestList Registrations { get; } = new();

    /// <summary>
    /// Takes what a wait took from the queue and reports what is ready into
    /// <paramref name="sink"/>: at most <paramref name="maxEvents"/>, as epoll_wait does.
    /// </summary>
    public int Report<TSink>(scoped Span<CeqMessage> messages, int taken, ref TSink sink, int maxEvents)
        where TSink : IEventSink, allows ref struct
    {
        IngestTaken(messages, taken);
        // Ingested: the stale ones among them were dropped while their ids could not recur.
        Queue.Mailbox.ReleaseTaken();
        return Deliver(ref sink, maxEvents);
    }

    /// <summary>Before a ctl <paramref name="op"/> on <paramref name="fd"/>: finds an orphan its file names again.</summary>
    public virtual void BeforeCtl(int op, int fd)
    {
        if (Registrations.OrphanCount > 0 && Registrations.Find(fd) is null)
            AdoptOrphan(fd);
    }

    /// <summary>After a ctl on <paramref name="fd"/>: <paramref name="armed"/> when an ADD or MOD succeeded.</summary>
    public virtual void AfterCtl(int fd, bool armed)
    {
    }

    /// <summary>EPOLL_CTL_ADD after the checks on epfd; 0 or the errno, with nothing changed on error.</summary>
    public int Add(int fd, EpollEvents events, ulong data, SafeHandle? handle)
    {
        int error = CheckAdd(fd, events);
        if (error != 0)
            return error;
        EpollSet? target = EpollNames.SetOf(fd);
        if ((error = PrepareLink(target, out int link)) != 0)
            return error;
        CeqId id = Queue.Allocate((ulong)(uint)fd);
        var request = new TapRequest(fd, TapCommand.Add, Filter(events), Queue, id, Modes(events));
        if (FdTaps.Submit([request], out error) != 1)
        {
            Queue.Free(id);
            AbandonLink(link);
            return error;
        }
        var registration = new Registration(fd, id, handle) { Events = events | AlwaysReported, Data = data };
        Registrations.Add(registration);
        if (target is not null)
        {
            registration.Nested = new NestedTarget(target);
            Set.Nesting.Link(target.Nesting);
        }
        Added(registration, link);
        return 0;
    }

    /// <summary>EPOLL_CTL_MOD after the checks on epfd; 0 or the errno, with nothing changed on error.</summary>
    public int Modify(int fd, EpollEvents events, ulong data)
    {
        bool self = IsSelf(fd);
        EpollEvents? registered = Registrations.Find(fd)?.Events;
        // The target's own error (EBADF) comes first in Linux's order. Where the re-arm is the
        // kernel's own epoll_ctl, which checks the fd first too, the path that reaches it needs
        // no fcntl of its own.
        int error = CtlRules.CheckModify(0, self, events, registered);
        if (error != 0 || !RearmChecksFd)
            error = CtlRules.CheckModify(CtlRules.CheckFd(fd), self, events, registered);
        if (error != 0)
            return error;
        Registration registration = Registrations.Find(fd)!;
        if ((error = Rearm(registration, events)) != 0)
            return error;
        registration.Events = events | AlwaysReported;
        registration.Data = data;
        registration.Disarmed = false;
        Armed(registration);
        return 0;
    }

    /// <summary>EPOLL_CTL_DEL after the checks on epfd; 0 or the errno, with nothing changed on error.</summary>
    public int Remove(int fd)
    {
        int error = CtlRules.CheckRemove(RemoveFdError(fd), IsSelf(fd), Registrations.Find(fd) is not null);
        return error != 0 ? error : Remove(Registrations.Find(fd)!);
    }

    /// <summary>Before <paramref name="fd"/> is closed through EpollGen (the set is open).</summary>
    public abstract void BeforeClose(int fd);

    /// <summary>After <paramref name="fd"/> was closed through EpollGen (the set is open).</summary>
    public abstract void AfterClose(int fd);

    /// <summary>
    /// Collects what the queue holds now and returns how many times Linux would have woken the
    /// pollers of the set's fd so far (0 where the kernel wakes them itself). Called by a set this
    /// one is registered in; takes this set's lock (parent first).
    /// </summary>
    public uint CollectWakes()
    {
        lock (SetLock)
        {
            if (!Set.IsDisposed)
                Collect();
            return Wakes;
        }
    }

    /// <summary>A set registered in this one was closed; takes this set's lock where it acts.</summary>
    public virtual void DropMirrorsOf(EpollSet closed)
    {
    }

    /// <summary>The set is closing: every registration goes, with its tap and its handle.</summary>
    public virtual void Clear()
    {
        foreach (Registration? registration in Registrations.ByFd)
        {
            if (registration is not null)
                Unregister(registration);
        }
        foreach (Registration orphan in (Registration[])[.. Registrations.Orphans])
            ReleaseOrphan(orphan);
    }

    /// <summary>The set is closed (after <see cref="Clear"/>, out of the lock): its queue and fds go.</summary>
    public virtual void Close() => Queue.Dispose();

    protected virtual uint Wakes => 0;

    // Creates the set's queue with the backend create makes, which the caller keeps with its type.
    protected TBackend CreateQueue<TBackend>(Func<CoalescingEventQueue, TBackend> create)
        where TBackend : class, ITapBackend
    {
        TBackend? backend = null;
        Queue = new EventQueue(mailbox => backend = create(mailbox));
        return backend!;
    }

    // Ends a failed creation: the queue goes and the set's constructor throws the errno.
    protected void ThrowOnCreateError(int error)
    {
        if (error == 0)
            return;
        Queue.Dispose();
        throw new EpollException("epoll_create1", error);
    }

    protected abstract int Deliver<TSink>(ref TSink sink, int maxEvents)
        where TSink : IEventSink, allows ref struct;

    // Ingests messages a wait took from the queue before it held the lock.
    protected virtual void IngestTaken(Span<CeqMessage> messages, int taken) => Ingest(messages, taken);

    // One registration's posted bits (registered ∩ ready), from an id that is still its own.
    protected abstract void Take(Registration registration, EpollEvents ready);

    // The tap modes of a registration's mask.
    protected abstract TapModes Modes(EpollEvents events);

    // Before an ADD's tap: 0, or the errno that refuses it; link is passed on to Added or AbandonLink.
    protected virtual int PrepareLink(EpollSet? target, out int link)
    {
        link = -1;
        return 0;
    }

    protected virtual void AbandonLink(int link)
    {
    }

    // A new registration, in the table and the nesting graph.
    protected virtual void Added(Registration registration, int link) => Armed(registration);

    // After a successful ADD or MOD of the registration.
    protected virtual void Armed(Registration registration)
    {
    }

    // The MOD's tap request: 0 or the errno. ENOENT (the number names another file) and EBADF (it
    // was closed behind the set's back) mean the fd no longer names the registration's file: the
    // backend has made its tap an orphan if the file lives on, else dropped it, and the
    // registration follows, as Linux's (fd, file) item lives on or goes with the file.
    protected virtual int Rearm(Registration registration, EpollEvents events)
    {
        var request = new TapRequest(registration.Fd, TapCommand.Modify, Filter(events), Queue, registration.Id, Modes(events));
        int error = ApplyRearm(request);
        if (error == 0)
            return 0;
        if (error is LibC.ENOENT or LibC.EBADF)
            Follow(registration, IsOrphaned(registration));
        return error;
    }

    // Carries out a MOD's tap request (a valid Modify of a registration's fd): 0 or the errno.
    protected virtual int ApplyRearm(in TapRequest request) =>
        FdTaps.Submit([request], out int error) == 1 ? 0 : error;

    // After a failed MOD: whether the backend made the registration's tap an orphan itself.
    protected virtual bool IsOrphaned(Registration registration) => false;

    // Whether Rearm is a kernel epoll_ctl on the fd, which fails with EBADF for a closed or O_PATH
    // fd before it changes anything.
    protected virtual bool RearmChecksFd => false;

    // DEL's own check of the fd before the lookup, where the backend's removal checks nothing.
    protected virtual int RemoveFdError(int fd) => 0;

    protected abstract int Remove(Registration registration);

    // Whether the number of an existing registration was closed and reused behind our back (not
    // through Epoll.close); if so the old registration has been made an orphan or has gone.
    protected virtual bool TryReplaceStale(Registration existing, int fd) => false;

    // An orphan whose file fd names again (dup2'd back onto its number), if there is one: the
    // registration Linux's (fd, file) lookup finds.
    protected abstract void AdoptOrphan(int fd);

    // Takes what the queue holds now, driving it unless another thread is already driving it.
    protected virtual unsafe void Collect()
    {
        Span<CeqMessage> messages = stackalloc CeqMessage[MessageBatch];
        Ingest(messages, Queue.Wait(messages, 0, interruptible: false));
    }

    // Posts become Take's, with the bits the kernel read when it harvested them (registered ∩
    // ready, plus ERR|HUP). Stale ids (a removed or replaced registration) and disarmed one-shot
    // registrations are dropped. A full buffer means more may wait: it is refilled until empty.
    protected void Ingest(Span<CeqMessage> buffer, int taken)
    {
        while (true)
        {
            foreach (CeqMessage message in buffer[..taken])
            {
                if (message.UserData == NoFd)
                    continue;
                Registration? registration = Registrations.Find((int)message.UserData);
                if (registration is null || registration.Id != message.Id)
                    registration = Registrations.FindOrphan(message.Id);
                if (registration is null || registration.Disarmed)
                    continue;
                Take(registration, EpollTapMap.ToSource((TapFilters)message.Bits & ~IoUringTapBackend.PrivateReady) & registration.Events & Pollable);
            }
            if (taken < buffer.Length)
                return;
            taken = Queue.Mailbox.TryTake(buffer);
        }
    }

    // The registration's tap goes, then the registration.
    protected void Unregister(Registration registration)
    {
        Untap(registration);
        Forget(registration);
    }

    protected virtual void Untap(Registration registration) =>
        FdTaps.Submit([new TapRequest(registration.Fd, TapCommand.Remove, 0, Queue, registration.Id)], out _);

    // The set's side of a removal, once the tap is gone.
    protected void Forget(Registration registration)
    {
        Queue.Free(registration.Id);
        registration.Removed = true;
        Registrations.Remove(registration);
        registration.Handle?.DangerousRelease();
        if (registration.Target is { } target)
            Unlink(registration, target);
        Forgotten(registration);
    }

    // After a registration or an orphan is gone.
    protected virtual void Forgotten(Registration registration)
    {
    }

    // An orphan whose file was released: the kernel dropped its registration, and so do we.
    protected void ReleaseOrphan(Registration orphan, bool proxyEmpty = false)
    {
        Registrations.RemoveOrphan(orphan);
        Queue.Free(orphan.Id);
        orphan.Removed = true;
        if (orphan.Target is { } target)
            Unlink(orphan, target);
        OrphanReleased(orphan, proxyEmpty);
        Forgotten(orphan);
    }

    protected virtual void OrphanReleased(Registration orphan, bool proxyEmpty)
    {
    }

    // An orphan when the backend made the registration's tap one, else gone, as the kernel dropped it.
    protected void Follow(Registration registration, bool orphaned)
    {
        if (orphaned)
            Registrations.Orphan(registration);
        else
            Unregister(registration);
    }

    protected virtual void Unlinked(Registration registration)
    {
    }

    protected static TapFilters Filter(EpollEvents events) => EpollTapMap.ToTarget(events & Pollable);

    protected static unsafe bool IsEpoll(int fd)
    {
        byte* target = stackalloc byte[64];
        nint length = LibC.readlink($"/proc/self/fd/{fd}", target, 64);
        return length > 0 && new ReadOnlySpan<byte>(target, (int)length).SequenceEqual("anon_inode:[eventpoll]"u8);
    }

    private int CheckAdd(int fd, EpollEvents events)
    {
        // The kernel cannot see links through io_uring sets, so EpollGen's own graph decides loops
        // (and agrees with the kernel on epoll sets).
        int error = CtlRules.CheckAdd(IsSelf(fd), events, (Set, Fd: fd),
            static target => IsEpoll(target.Fd),
            static target => EpollNames.SetOf(target.Fd) is not { } nested || SetNesting.CanNest(target.Set.Nesting, nested.Nesting));
        if (error != 0 || Registrations.Find(fd) is not { } existing)
            return error;
        return CtlRules.CheckExisting(TryReplaceStale(existing, fd));
    }

    // The set's own file, by any of its names: Linux refuses it as a target with EINVAL.
    private bool IsSelf(int fd) => fd == Fd || EpollNames.Find(fd) == Set;

    private void Unlink(Registration registration, EpollSet target)
    {
        registration.Nested = null;
        Unlinked(registration);
        Set.Nesting.Unlink(target.Nesting);
    }
}
