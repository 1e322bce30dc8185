using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Native;
using EpollGen.Taps;

namespace EpollGen;

/// <summary>
/// Readiness of a set on kernel-epoll taps, where the kernel re-reads readiness at harvest and
/// keeps level-triggered and one-shot entries itself: a wait reports the taps that fired, in
/// firing order, and hands those that did not fit back to the kernel.
/// </summary>
/// <remarks>
/// The set is named by its queue's kernel epoll fd, so poll, select and the kernel's own epoll see
/// it readable exactly while a wait would report something, and it nests in the kernel as it nests
/// here. A registration whose fd is closed while the kernel still holds its file (open elsewhere)
/// becomes an orphan through the backend, and reports on as Linux's does.
/// </remarks>
internal sealed class KernelEpollReadiness : SetReadiness
{
    private readonly EpollTapBackend _backend;

    // Per wait: registrations whose taps fired, in firing order, and those that did not fit and
    // that the kernel will not re-queue by itself.
    private readonly List<Registration> _candidates = [];
    private readonly List<Registration> _unreported = [];

    // Orphans that fired but did not fit a wait: they cannot be re-armed through a closed fd, so
    // they stay candidates for the next wait, and the set's fd is kept readable meanwhile.
    private readonly List<Registration> _carried = [];

    /// <summary>Creates the set's queue on kernel-epoll taps.</summary>
    /// <exception cref="EpollException">The kernel refused an fd or FD_CLOEXEC's removal.</exception>
    public KernelEpollReadiness(EpollSet set, Lock setLock, bool closeOnExec)
        : base(set, setLock)
    {
        _backend = CreateQueue(mailbox => new EpollTapBackend(mailbox) { KeepsOrphans = true });
        ThrowOnCreateError(!closeOnExec && LibC.fcntl(Fd, LibC.F_SETFD, 0) < 0 ? Marshal.GetLastPInvokeError() : 0);
    }

    public override int Fd => _backend.PollFd;

    // Nothing to do before: the close itself leaves the kernel's registration in place exactly
    // while the file lives on elsewhere.
    public override void BeforeClose(int fd)
    {
    }

    // The closed fd's registration becomes an orphan, in constant time, which goes on reporting
    // while the kernel keeps its registration (the file is open elsewhere) and never reports once
    // the file is released; those released are dropped now and then, together (see
    // EpollTapBackend.Orphan and ReleaseDeadOrphans).
    public override void AfterClose(int fd)
    {
        if (Registrations.Find(fd) is { Handle: null } registration)
            Detach(registration);
        SweepOrphans();
    }

    // A ctl can make orphans too (an ADD of a number closed behind the set's back, a MOD or DEL
    // the kernel refuses for a closed fd): swept as a close's are.
    public override void AfterCtl(int fd, bool armed)
    {
        SweepOrphans();
    }

    // An ADD asks the kernel, whose lookup by (fd, file) answers EEXIST when fd names an orphan's
    // file again; MOD and DEL look for that orphan first.
    public override void BeforeCtl(int op, int fd)
    {
        if (op != LibC.EPOLL_CTL_ADD)
            base.BeforeCtl(op, fd);
    }

    // Reports candidates in firing order, each once. Level-triggered taps are level-triggered in
    // the kernel, which re-queues them at the tail of its ready list: Linux's round-robin, done by
    // Linux. Edge-triggered and one-shot candidates that did not fit go back to the kernel with a
    // tap Modify, which re-reads their readiness. Nothing is left in user space between waits, so
    // the set's kernel fd is readable exactly when a wait would report something.
    protected override int Deliver<TSink>(ref TSink sink, int maxEvents)
    {
        int reported = 0;
        if (_carried.Count > 0)
        {
            foreach (Registration carried in _carried)
                AddCandidate(carried);
            _carried.Clear();
        }
        foreach (Registration registration in _candidates)
        {
            EpollEvents ready = registration.Pending;
            registration.Pending = 0;
            registration.Queued = false;
            if (registration.Removed || registration.Disarmed)
                continue;
            // Past maxevents, or past a write that faulted: the kernel re-reads these on re-arm.
            if (reported == maxEvents || sink.Faulted || !sink.Write(reported, (uint)ready, registration.Data))
            {
                if (registration.Orphaned)
                {
                    registration.Pending = ready;
                    _carried.Add(registration);
                }
                else if ((registration.Events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) != 0)
                {
                    _unreported.Add(registration);
                }
                continue;
            }
            reported++;
            if ((registration.Events & EpollEvents.EPOLLONESHOT) != 0)
                registration.Disarmed = true;
        }
        _candidates.Clear();
        // Carried orphans keep the set's fd readable, as a kernel ready list would.
        if (_carried.Count > 0)
            _backend.Wake();
        foreach (Registration registration in _unreported)
        {
            // A failure means the fd was closed or now names another file behind the set's back:
            // nothing to re-read, and the registration follows its tap (an orphan, or gone), as a
            // MOD's does, so the number is free for a new file's ADD.
            var request = new TapRequest(registration.Fd, TapCommand.Modify, Filter(registration.Events), Queue, registration.Id, Modes(registration.Events));
            if (FdTaps.Submit([request], out int error) == 0 && error is LibC.ENOENT or LibC.EBADF && !registration.Removed)
                Follow(registration, IsOrphaned(registration));
        }
        _unreported.Clear();
        return reported;
    }

    protected override void Take(Registration registration, EpollEvents ready)
    {
        if (ready == 0)
            return;
        registration.Pending |= ready;
        AddCandidate(registration);
    }

    // The kernel carries the modes.
    protected override TapModes Modes(EpollEvents events) =>
        ((events & EpollEvents.EPOLLONESHOT) != 0 ? TapModes.OneShot : TapModes.None)
        | ((events & EpollEvents.EPOLLET) == 0 ? TapModes.Level : TapModes.None)
        | ((events & EpollEvents.EPOLLEXCLUSIVE) != 0 ? TapModes.Exclusive : TapModes.None);

    // The kernel epoll backend has made the tap an orphan itself when the fd had one.
    protected override bool IsOrphaned(Registration registration) => _backend.IsOrphaned(registration.Fd, registration.Id);

    // The kernel's DEL fails, changing nothing, when fd was closed (EBADF) or names another file
    // (ENOENT) behind our back: Linux's (fd, file) lookup then finds nothing, and the old
    // registration is an orphan if its file lives on elsewhere, else gone with it. The set adds
    // Linux's earlier checks of the new file to an ENOENT.
    protected override int Remove(Registration registration)
    {
        int error = _backend.RemoveChecked(registration.Fd, registration.Id);
        if (error == 0)
            Forget(registration);
        else if (registration.Handle is null)
            Detach(registration);
        return error;
    }

    // The tap's MOD is epoll_ctl(MOD) of the fd in the queue's kernel epoll, unless the fd is an
    // orphan's, whose number the kernel no longer holds under this registration: the kernel
    // answers ENOENT then, which Rearm handles, or EBADF for a closed number, as Linux does.
    protected override bool RearmChecksFd => true;

    // Straight to the backend, past the queue's count of its users (EventQueue.Tap), which every
    // waiting thread writes too: that count keeps the mailbox's memory alive for a call, and Apply
    // does not touch the mailbox. A disposal of the backend races the MOD under the backend's own
    // lock, where Apply finds it closed (EBADF, as the queue's count would have answered).
    protected override int ApplyRearm(in TapRequest request) => _backend.Apply(request);

    protected override bool TryReplaceStale(Registration existing, int fd)
    {
        if (existing.Handle is not null || !_backend.IsStale(fd))
            return false;
        Detach(existing);
        return true;
    }

    protected override void AdoptOrphan(int fd)
    {
        if (_backend.Adopt(fd) is not { } taps)
            return;
        foreach (Tap tap in taps)
        {
            if (Registrations.FindOrphan(tap.Id) is { } orphan)
            {
                Registrations.Adopt(orphan, fd);
                return;
            }
        }
    }

    protected override void OrphanReleased(Registration orphan, bool proxyEmpty) => _carried.Remove(orphan);

    private void AddCandidate(Registration registration)
    {
        if (registration.Queued)
            return;
        registration.Queued = true;
        _candidates.Add(registration);
    }

    // The registration's fd no longer names its file (closed, or reused behind our back): the
    // backend makes its tap an orphan, which lives while the kernel keeps the registration (the
    // file is open elsewhere), and the registration follows.
    private void Detach(Registration registration) => Follow(registration, _backend.Orphan(registration.Fd));

    // Drops the orphans whose file was released, when the backend finds it is time to look.
    private void SweepOrphans()
    {
        if (Registrations.OrphanCount > 0)
            ReleaseOrphans(_backend.ReleaseDeadOrphans());
    }

    private void ReleaseOrphans(Tap[] taps)
    {
        foreach (Tap tap in taps)
        {
            if (Registrations.FindOrphan(tap.Id) is { } dead)
                ReleaseOrphan(dead);
        }
    }
}
