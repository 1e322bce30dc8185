using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Events;
using EpollGen.Interop;
using EpollGen.Native;
using EpollGen.Taps;

namespace EpollGen;

/// <summary>
/// Readiness of a set on io_uring taps, where the kernel neither re-reads readiness at harvest nor
/// keeps level-triggered entries: the set keeps a user-space ready list, re-read by poll(2) at each
/// wait, and a kernel epoll instance of its own as its name.
/// </summary>
/// <remarks>
/// <para>
/// Completions only make a registration a candidate in the ready list, and each wait re-reads the
/// candidates with one poll(2) per batch of 64 (registered ∩ revents, plus EPOLLERR|EPOLLHUP;
/// POLLNVAL drops), reports those that are ready, in list order, moves reported level-triggered
/// entries to the tail and leaves those that did not fit at the head (Linux's round-robin).
/// EPOLLONESHOT disarms in the set: completions for a disarmed registration are dropped.
/// EPOLLEXCLUSIVE reaches the ring: the fd's poll is exclusive, so one wake-up of the file
/// completes one of the exclusive polls on it, across sets. Approximate: Linux passes an exclusive
/// wake-up over a set with no waiter to the next (ep_poll_callback counts it only when the set's
/// wait queue is active), while io_uring's poll takes it whoever waits on the ring (io_poll_wake
/// returns 1), so the first set to tap the file keeps taking its wake-ups while its own waiter is
/// away, and reports them at that waiter's next wait; and a registration that lives on in a proxy
/// after its fd's close is no longer exclusive (the ring polls the proxy, whose wake-ups are not).
/// </para>
/// <para>
/// The set's fd is a kernel epoll instance of the set's own holding the ring fd and an eventfd
/// raised while the ready list is not empty; nesting depth and cycles (ELOOP) are checked in
/// EpollGen's graph of sets, and a nested io_uring set answers its parent's poll itself, after
/// bringing its ready list up to date, as Linux re-polls a nested set's entries. Approximate: a
/// completion that turns out stale keeps the set's fd readable until the next wait, ctl or
/// nested poll of the set collects it; and when several threads use one set, completions another
/// thread is still collecting may reach a wait late.
/// </para>
/// <para>
/// The ring's poll of an fd holds its file, so when a registered fd is closed through EpollGen its
/// registration moves first to a proxy, an epoll instance of the set's own that holds (fd, file)
/// without a reference and that the ring polls instead: the close releases a file no other fd
/// holds, and a file that lives on keeps its registration reporting, keyed by (fd, file), as in
/// Linux. Approximate: when the fd's poll was armed by another thread than the closing one (its
/// completions may still be on their way), an edge-triggered registration's readiness at the
/// close is kept as an edge, so it may be reported once more; never lost.
/// </para>
/// <para>
/// Nested io_uring sets. The set's fd also wakes on the ring's own completions (the driver's
/// wake-ups, acknowledgements of poll updates and removals), which have no Linux counterpart. So
/// the set counts the wake-ups Linux would give its pollers: a completion for an armed entry
/// that asked for what it carries (ep_poll_callback), and an ADD or MOD that queues a ready entry
/// (ep_insert, ep_modify). A set's registration of a nested io_uring set is queued only when that
/// count moved, and only if it asks for EPOLLIN, the one key a set wakes its pollers with; its
/// harvest re-polls the nested set, so an edge-triggered or one-shot registration reports the set
/// when it is ready after a wake-up, whatever else made it ready, as in Linux. Not matched: a
/// wake-up that carries no key and finds the fd not ready for its entry (a unix socket's
/// shutdown wakes both ends so) posts nothing in io_uring, so no registration of the set hears of
/// it; and pollers of the set's fd other than io_uring sets (poll(2), a kernel epoll, a
/// kernel-epoll set) still see the ring's own wake-ups. Linux's limit on wake-up paths (EINVAL
/// from an ADD that gives a file too many) is the kernel's own: the backend's shadow epoll holds
/// every tapped fd, and a registration of another io_uring set puts a dup of that set's shadow
/// in it (a mirror), so the shadows nest as the sets do.
/// </para>
/// </remarks>
internal sealed class IoUringReadiness : SetReadiness
{
    // Candidates re-read per poll(2).
    private const int PollBatch = 64;

    // Whether kcmp(KCMP_EPOLL_TFD) answers in this process (some sandboxes refuse it); learnt at the
    // first close of a registered fd of an io_uring set.
    private static bool? s_kernelAnswers;

    private readonly IoUringTapBackend _backend;
    private readonly bool _trustTaps;

    // The user-space ready list in report order, the spare list the next order is built in, the
    // reported level-triggered entries bound for the tail, and the eventfd that tells the name fd
    // it is not empty.
    private readonly int _nameFd;
    private readonly int _indicatorFd;
    // Own the two fds above: a set lost without Dispose closes them when collected.
    private readonly OwnedFd? _nameFdOwner;
    private readonly OwnedFd? _indicatorFdOwner;
    private bool _indicatorRaised;
    private List<Registration> _ready = [];
    private List<Registration> _readyNext = [];
    private readonly List<Registration> _readyTail = [];

    // An id of the set's queue posted to when a delivery leaves the ready list not empty while
    // other threads wait, so one of them wakes and delivers in turn, as Linux wakes the next
    // waiter after a scan that left entries on the ready list (ep_done_scan). The kernel-epoll
    // backend needs none: its kernel waiters are woken by the kernel's own ready list.
    private readonly CeqId _nextWaiter;

    // The registrations of other io_uring sets, each with its dup of the target's shadow epoll,
    // held in this set's shadow (see MirrorLink).
    private Dictionary<Registration, int>? _mirrors;

    // The proxy epoll instance of each registration whose fd was closed through EpollGen (see
    // StageProxy), and an empty one kept for the next close, or -1.
    private Dictionary<Registration, int>? _proxies;
    private int _spareProxy = -1;

    // How many times Linux would have woken the pollers of this set's fd (ep_poll_callback for an
    // armed entry; ep_insert or ep_modify queueing a ready one). The name fd also wakes on the
    // ring's own completions, which have no Linux counterpart, so a set this one is registered in
    // takes a completion on it as a wake-up only when this moved.
    private uint _wakes;

    // The registration whose ADD or MOD, or whose move to a proxy at its fd's close, is being
    // collected. Its completions then answer the arm or update, whose readiness the ctl read
    // itself, or that reports nothing new.
    private Registration? _arming;

    /// <summary>Creates the set's queue on io_uring taps, and the set's name.</summary>
    /// <exception cref="EpollException">The kernel refused an fd (EMFILE, ENFILE, ENOMEM).</exception>
    /// <exception cref="NotSupportedException">io_uring is not usable here.</exception>
    public IoUringReadiness(EpollSet set, Lock setLock, bool closeOnExec, bool trustTaps)
        : base(set, setLock)
    {
        _backend = CreateQueue(TapBackendSelection.CreateIoUring);
        _backend.EntersOnEveryWait = true;
        _trustTaps = trustTaps;
        _nextWaiter = Queue.Allocate(NoFd);
        ThrowOnCreateError(CreateName(_backend.PollFd, closeOnExec, out _nameFd, out _indicatorFd));
        _nameFdOwner = new OwnedFd(_nameFd);
        _indicatorFdOwner = new OwnedFd(_indicatorFd);
    }

    public override int Fd => _nameFd;

    public override bool TrustsTaps => _trustTaps;

    public override IoUringReadiness Ring => this;

    // Deliver hands what stays ready on to another waiter when there is one.
    public override bool ReadsWaiters => true;

    /// <summary>The backend's shadow epoll, which holds every tapped fd (see MirrorLink).</summary>
    public int ShadowFd => _backend.ShadowFd;

    // A set that is registered in others collects first, so wake-ups already posted for the entry
    // are counted before the entry's poll is updated or removed, which would make them stale.
    public override void BeforeCtl(int op, int fd)
    {
        base.BeforeCtl(op, fd);
        CollectForPollers();
    }

    // The backend arms, updates and removes polls when its queue is driven: driven now, so the
    // arm's report merges with the ready list before anyone waits, and a removed poll lets go of
    // its file.
    public override void AfterCtl(int fd, bool armed)
    {
        _arming = armed ? Registrations.Find(fd) : null;
        Collect();
        _arming = null;
    }

    // The ring holds the file until the poll's removal is submitted: submitted now, the close that
    // follows releases it, and its peers see the hang-up at once.
    public override void BeforeClose(int fd)
    {
        if (Registrations.Find(fd) is not { Handle: null } registration)
            return;
        if (!registration.Proxied && !StageProxy(registration))
        {
            CollectForPollers();
            Unregister(registration);
        }
        // Submits the poll's removal, so the close releases a file no other fd holds.
        Collect();
    }

    // The closed fd's registration is an orphan while its proxy still holds the file, else it
    // goes; so do orphans whose file has been released since.
    public override void AfterClose(int fd)
    {
        if (_proxies is null)
            return;
        // Wake-ups the orphans' proxies posted before their files went count for the sets this
        // one is registered in (Linux passed them on at once): collected before anything goes.
        CollectForPollers();
        if (Registrations.Find(fd) is { Proxied: true } registration)
            SettleClosed(registration);
        // A set's file can outlive its last name (other sets' rings poll it): a closed set's orphan goes.
        foreach (Registration orphan in (Registration[])[.. Registrations.Orphans])
        {
            bool released = PrivateFds.EpollHolds(_proxies[orphan], orphan.Fd) == false;
            if (released || orphan.Target is { IsDisposed: true })
                ReleaseOrphan(orphan, proxyEmpty: released);
        }
    }

    // A closed fd's registration, once the close is done: an orphan whose proxy the ring polls
    // from now on while the file lives on (it already does for an adopted orphan; its arm reports
    // what the proxy queued since the close, or a level, and a close wakes no poller in Linux),
    // else gone with the file.
    private void SettleClosed(Registration registration)
    {
        int proxy = _proxies![registration];
        if (PrivateFds.EpollHolds(proxy, registration.Fd) == true)
        {
            _backend.TapPrivate(proxy, registration.Id, TapFilters.FDTAP_FILT_READABLE);
            _arming = registration;
            Collect();
            _arming = null;
            Follow(registration, orphaned: true);
        }
        else
        {
            DropProxy(registration, empty: true);
            Forget(registration);
        }
    }

    // An ADD of a number whose registration is still being closed through EpollGen (proxied, its
    // close done, its AfterClose not yet run) because another thread already got the number for a
    // new file: Linux's (fd, file) key makes the new file a new registration, so the old one
    // settles now as AfterClose would have settled it. The same file (an adopted orphan, or a
    // dup2 back onto the number) is the same key: EEXIST.
    protected override bool TryReplaceStale(Registration existing, int fd)
    {
        if (!existing.Proxied || PrivateFds.EpollCompare(fd, _proxies![existing], fd, 0) == 0)
            return false;
        SettleClosed(existing);
        return true;
    }

    /// <summary>
    /// Polls the set for a set it is registered in, as Linux's poll of an epoll fd scans its ready
    /// list: collects completions, drops entries up to the first that is still ready and returns
    /// whether one is. Takes this set's lock (parent first).
    /// </summary>
    public unsafe bool Settle()
    {
        lock (SetLock)
        {
            if (Set.IsDisposed)
                return false;
            Collect();
            List<Registration> ready = _ready, kept = _readyNext;
            PollFd* polls = stackalloc PollFd[PollBatch];
            int next = 0;
            bool found = false;
            while (next < ready.Count && !found)
            {
                int batch = Math.Min(PollBatch, ready.Count - next);
                Reread(ready, next, batch, polls);
                for (int i = 0; i < batch; i++)
                {
                    Registration registration = ready[next + i];
                    if (found || (ReadsProxy(registration) ? ProxyNow(registration, harvest: false) : ReadyNow(registration, polls[i])) != 0)
                    {
                        found = true;
                        kept.Add(registration);
                    }
                    else
                    {
                        registration.Queued = false;
                    }
                }
                next += batch;
            }
            SwapReady(ready, kept, next);
            return found;
        }
    }

    // A set registered in this one was closed: the shadow drops its mirrors of that set's shadow.
    public override void DropMirrorsOf(EpollSet closed)
    {
        lock (SetLock)
        {
            if (_mirrors is null)
                return;
            foreach ((Registration registration, int mirror) in System.Linq.Enumerable.ToArray(_mirrors))
            {
                if (registration.Target == closed)
                {
                    _mirrors.Remove(registration);
                    Unmirror(mirror);
                }
            }
        }
    }

    public override void Clear()
    {
        base.Clear();
        if (_spareProxy >= 0)
            LibC.close(_spareProxy);
        _spareProxy = -1;
    }

    public override void Close()
    {
        base.Close();
        _nameFdOwner?.Dispose();
        _indicatorFdOwner?.Dispose();
    }

    protected override uint Wakes => _wakes;

    // Reports the ready list in order, re-reading each batch of candidates with one poll(2)
    // (ep_send_events' re-poll). Not ready: dropped. Ready and reported: level-triggered entries
    // go to the tail, one-shot ones disarm, edge-triggered ones leave until their next completion.
    // Ready but past maxevents: they keep their place at the head. Candidates beyond the last
    // batch read are not re-read now, as Linux stops at maxevents too.
    protected override unsafe int Deliver<TSink>(ref TSink sink, int maxEvents)
    {
        List<Registration> ready = _ready, kept = _readyNext;
        PollFd* polls = stackalloc PollFd[PollBatch];
        int reported = 0, next = 0;
        while (next < ready.Count && reported < maxEvents && !sink.Faulted)
        {
            int batch = Math.Min(PollBatch, ready.Count - next);
            Reread(ready, next, batch, polls);
            for (int i = 0; i < batch; i++)
            {
                Registration registration = ready[next + i];
                bool room = reported < maxEvents && !sink.Faulted;
                EpollEvents now = ReadsProxy(registration) ? ProxyNow(registration, harvest: room)
                    : IsTrusted(registration) ? TakeTrusted(registration) : ReadyNow(registration, polls[i]);
                if (now == 0)
                {
                    registration.Queued = false;
                }
                else if (!room || !sink.Write(reported, (uint)now, registration.Data))
                {
                    kept.Add(registration);
                    if (room && ReadsProxy(registration) && IsEdgeOnly(registration.Events))
                        registration.Pending = now;
                }
                else
                {
                    reported++;
                    if ((registration.Events & EpollEvents.EPOLLONESHOT) != 0)
                        registration.Disarmed = true;
                    if ((registration.Events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) == 0)
                        _readyTail.Add(registration);
                    else
                        registration.Queued = false;
                }
            }
            next += batch;
        }
        SwapReady(ready, kept, next);
        // The caller is one of the waiters counted; others wait while entries are still ready.
        if (_ready.Count > 0 && Set.Waiters > 1)
            Queue.Post(_nextWaiter, 1);
        return reported;
    }

    // Under the lock: ingests messages a wait took from the queue before it held the lock. A set
    // this one is registered in may have read the wake count in that window, found it unchanged
    // and dropped its completion; a wake-up counted now wakes the name fd again, so it looks again.
    protected override void IngestTaken(Span<CeqMessage> messages, int taken)
    {
        uint wakes = _wakes;
        Ingest(messages, taken);
        if (_wakes != wakes && Set.Nesting.IsPolled)
            _backend.Wake();
    }

    protected override void Take(Registration registration, EpollEvents ready)
    {
        // A proxy's completion says only that the proxy is readable: a hint for every bit. The
        // fd's own poll's last completions, reaped as the close removed it, may reach the set
        // only now: their edge, which the proxy's first drain took, is kept for an edge-triggered
        // delivery.
        if (registration.Proxied)
        {
            if (IsEdgeOnly(registration.Events))
                registration.Pending |= ready;
            ready = registration.Events & Pollable;
        }
        if (ready == 0 || IsDeaf(registration))
            return;
        // ep_poll_callback: the entry is queued and this set's pollers wake, each time. On a
        // nested io_uring set's fd only a wake-up of that set counts.
        if (registration.Nested is { Set.Readiness.Ring: not null } nested && !Woke(nested))
            return;
        if (registration != _arming)
            _wakes++;
        // A completion is only a hint (it may be stale): the delivery re-reads, unless the set
        // trusts its taps, which report these bits as they are.
        if (!registration.Proxied)
            registration.Pending |= ready;
        Enqueue(registration);
    }

    // The set keeps one-shot and level-triggered itself; only the kernel can make a wake-up of the
    // file stop at one poll.
    protected override TapModes Modes(EpollEvents events) =>
        (events & EpollEvents.EPOLLEXCLUSIVE) != 0 ? TapModes.Exclusive : TapModes.None;

    // A registration of another io_uring set is mirrored in this set's shadow (see MirrorLink).
    protected override int PrepareLink(EpollSet? target, out int link)
    {
        if (target?.Readiness.Ring is { } nested)
            return MirrorLink(nested, out link);
        link = -1;
        return 0;
    }

    protected override void AbandonLink(int link) => Unmirror(link);

    protected override void Added(Registration registration, int link)
    {
        if (link >= 0)
            (_mirrors ??= [])[registration] = link;
        Armed(registration);
    }

    // ADD and MOD poll the fd at once (ep_insert, ep_modify): ready and not queued yet, the entry
    // is queued and this set's pollers wake; an entry already queued keeps its place. An entry
    // naming another set follows that set's wake-ups from here: earlier ones are not its own.
    protected override void Armed(Registration registration)
    {
        if (IsReadyNow(registration) && !registration.Queued)
        {
            Enqueue(registration);
            _wakes++;
        }
        if (registration.Nested is { } nested)
            nested.SeenWakes = nested.Set.Readiness.CollectWakes();
    }

    // An adopted orphan's proxy takes Linux's own MOD.
    protected override int Rearm(Registration registration, EpollEvents events)
    {
        if (!registration.Proxied)
            return base.Rearm(registration, events);
        int error = ProxyCtl(_proxies![registration], LibC.EPOLL_CTL_MOD, registration.Fd, events | AlwaysReported);
        if (error == 0)
            registration.Pending = 0;
        return error;
    }

    // io_uring's removal checks nothing.
    protected override int RemoveFdError(int fd) => CtlRules.CheckFd(fd);

    protected override int Remove(Registration registration)
    {
        if (!registration.Proxied)
        {
            Unregister(registration);
            return 0;
        }
        int error = ProxyCtl(_proxies![registration], LibC.EPOLL_CTL_DEL, registration.Fd, 0);
        if (error != 0)
            return error;
        // The shadow's item, kept since the close, goes with the registration.
        PrivateFds.CtlEmpty(_backend.ShadowFd, LibC.EPOLL_CTL_DEL, registration.Fd);
        DropProxy(registration, empty: true);
        Forget(registration);
        return 0;
    }

    // The orphan's proxy compares its file with fd's; it stays the registration's watch.
    protected override void AdoptOrphan(int fd)
    {
        foreach (Registration orphan in Registrations.Orphans)
        {
            if (orphan.Fd == fd && orphan.Proxied && PrivateFds.EpollCompare(fd, _proxies![orphan], fd, 0) == 0)
            {
                Registrations.Adopt(orphan, fd);
                return;
            }
        }
    }

    // Takes what the ring holds now into the ready list.
    protected override void Collect()
    {
        base.Collect();
        UpdateIndicator();
    }

    protected override void Untap(Registration registration)
    {
        if (registration.Proxied)
            DropProxy(registration, empty: false);
        else
            base.Untap(registration);
    }

    protected override void Forgotten(Registration registration)
    {
        if (!registration.Queued)
            return;
        _ready.Remove(registration);
        registration.Queued = false;
        UpdateIndicator();
    }

    protected override void OrphanReleased(Registration orphan, bool proxyEmpty)
    {
        if (orphan.Proxied)
            DropProxy(orphan, proxyEmpty);
    }

    protected override void Unlinked(Registration registration)
    {
        if (_mirrors is not null && _mirrors.Remove(registration, out int mirror))
            Unmirror(mirror);
    }

    // Before a ctl and before a close drops a registration: a set that is registered in others
    // collects first, so wake-ups already posted for the entry are counted before the entry's
    // poll is updated or removed, which would make them stale.
    private void CollectForPollers()
    {
        if (Set.Nesting.IsPolled)
            Collect();
    }

    // Whether the io_uring set nested names woke the registration since it last looked. Its ring is
    // collected first, so wake-ups it has posted are counted. (An entry without EPOLLIN, which a
    // set never wakes, does not get here: IsDeaf drops its completions first.)
    private static bool Woke(NestedTarget nested)
    {
        uint wakes = nested.Set.Readiness.CollectWakes();
        bool woke = wakes != nested.SeenWakes;
        nested.SeenWakes = wakes;
        return woke;
    }

    private void Enqueue(Registration registration)
    {
        if (registration.Queued)
            return;
        registration.Queued = true;
        _ready.Add(registration);
    }

    // The list scanned up to next becomes the kept entries, then those not scanned, then the
    // reported level-triggered ones (only a delivery has any).
    private void SwapReady(List<Registration> ready, List<Registration> kept, int next)
    {
        for (; next < ready.Count; next++)
            kept.Add(ready[next]);
        kept.AddRange(_readyTail);
        _readyTail.Clear();
        ready.Clear();
        _ready = kept;
        _readyNext = ready;
        UpdateIndicator();
    }

    private unsafe bool IsReadyNow(Registration registration)
    {
        if (ReadsProxy(registration))
            return ProxyNow(registration, harvest: false) != 0;
        PollFd poll;
        Reread([registration], 0, 1, &poll, skipTrusted: false);
        EpollEvents now = ReadyNow(registration, poll);
        registration.Pending |= now;
        return now != 0;
    }

    // Trusted: an edge-triggered registration of a set that trusts its taps, reported with the
    // bits its completions carried, unchecked. Nested sets are always re-read (Settle).
    private bool IsTrusted(Registration registration) =>
        _trustTaps && registration.Target is null
        && (registration.Events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) == EpollEvents.EPOLLET;

    // One poll(2) for registrations [start, start + count) into polls. A nested io_uring set
    // answers for itself instead (Settle, with Linux's EPOLLIN|EPOLLRDNORM): its name fd also
    // reads its ring's own completions, which settling another set in the batch may post. A
    // disarmed or removed registration's set is settled all the same, as Linux polls it too.
    private unsafe void Reread(List<Registration> registrations, int start, int count, PollFd* polls, bool skipTrusted = true)
    {
        int asked = 0;
        for (int i = 0; i < count; i++)
        {
            Registration registration = registrations[start + i];
            bool skipped = registration.Removed || registration.Disarmed || registration.Proxied || (skipTrusted && IsTrusted(registration));
            polls[i] = new PollFd { fd = skipped || NestedRing(registration) is not null ? -1 : registration.Fd, events = (short)(registration.Events & Pollable) };
            asked += polls[i].fd < 0 ? 0 : 1;
        }
        if (asked > 0)
            PollNow(polls, count);
        for (int i = 0; i < count; i++)
        {
            Registration registration = registrations[start + i];
            if (NestedRing(registration) is { } nested && nested.Settle() && !registration.Removed && !registration.Disarmed)
                polls[i] = new PollFd { fd = registration.Fd, revents = (short)(EpollEvents.EPOLLIN | EpollEvents.EPOLLRDNORM) };
        }
    }

    // poll(2) with no timeout. EINTR: a signal arrived; such a poll loses nothing by being repeated.
    private static unsafe void PollNow(PollFd* polls, int count)
    {
        while (LibC.poll(polls, (nuint)count, 0) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }
    }

    // The io_uring set a registration names, if it names one (other than this set).
    private IoUringReadiness? NestedRing(Registration registration) =>
        registration.Target is { } target && target != Set ? target.Readiness.Ring : null;

    // The bits a trusted registration's completions carried since it was last reported.
    private static EpollEvents TakeTrusted(Registration registration)
    {
        EpollEvents bits = registration.Removed || registration.Disarmed ? 0 : registration.Pending & registration.Events & Pollable;
        registration.Pending = 0;
        return bits;
    }

    // Registered ∩ revents (ERR and HUP are always registered); POLLNVAL: the fd is closed.
    private static EpollEvents ReadyNow(Registration registration, in PollFd poll)
    {
        var revents = (EpollEvents)(ushort)poll.revents;
        if (poll.fd < 0 || ((PollEvents)(ushort)poll.revents & PollEvents.POLLNVAL) != 0)
            return 0;
        return revents & registration.Events & Pollable;
    }

    // The name fd's indicator follows the ready list: raised while it is not empty. Written only on
    // a change, so pollers of the name fd see one wake-up per transition, not one per call.
    private unsafe void UpdateIndicator()
    {
        bool raise = _ready.Count > 0;
        if (raise == _indicatorRaised)
            return;
        ulong value = 1;
        if (raise)
            LibC.write(_indicatorFd, &value, sizeof(ulong));
        else
            LibC.read(_indicatorFd, &value, sizeof(ulong));
        _indicatorRaised = raise;
    }

    // The set's name: a kernel epoll instance, readable while the ring holds completions or the
    // indicator is raised. Returns 0 or the errno, with nothing left open on error.
    private static int CreateName(int ringFd, bool closeOnExec, out int nameFd, out int indicatorFd)
    {
        indicatorFd = -1;
        nameFd = PrivateFds.Move(LibC.epoll_create1(closeOnExec ? LibC.EPOLL_CLOEXEC : 0), closeOnExec);
        if (nameFd < 0)
            return Marshal.GetLastPInvokeError();
        indicatorFd = PrivateFds.CreateEventFd();
        int error = indicatorFd < 0 ? Marshal.GetLastPInvokeError() : Watch(nameFd, ringFd);
        if (error == 0)
            error = Watch(nameFd, indicatorFd);
        if (error == 0)
            return 0;
        if (indicatorFd >= 0)
            LibC.close(indicatorFd);
        LibC.close(nameFd);
        nameFd = indicatorFd = -1;
        return error;
    }

    private static int Watch(int epfd, int fd) => PrivateFds.Ctl(epfd, LibC.EPOLL_CTL_ADD, fd, EpollEvents.EPOLLIN);

    // Linux refuses an ADD (EINVAL, reverse_path_check) that would give a file too many wake-up
    // paths up through nested sets. Sets on kernel-epoll taps nest in the kernel as they nest here,
    // so the kernel counts their paths itself; io_uring sets poll through the ring, which the
    // kernel cannot follow. Their shadows (every tapped fd, empty mask) are nested in its stead: a
    // dup of the target's shadow, one per registration as Linux counts one path per registration,
    // goes into this set's shadow, and the kernel's own checks on that ADD, and on every later ADD
    // into a nested shadow, are Linux's.
    private int MirrorLink(IoUringReadiness target, out int mirror)
    {
        mirror = PrivateFds.Dup(target.ShadowFd);
        if (mirror < 0)
            return Marshal.GetLastPInvokeError();
        int error = PrivateFds.CtlEmpty(_backend.ShadowFd, LibC.EPOLL_CTL_ADD, mirror);
        if (error == 0)
            return 0;
        LibC.close(mirror);
        mirror = -1;
        return error;
    }

    private unsafe void Unmirror(int mirror)
    {
        if (mirror < 0)
            return;
        // The target's own shadow keeps the file open: the link must be removed, not just closed.
        LibC.epoll_ctl(_backend.ShadowFd, LibC.EPOLL_CTL_DEL, mirror, null);
        LibC.close(mirror);
    }

    // Before the registration's fd is closed: its watch moves from the ring's poll of the fd, which
    // holds a reference to the file, to a proxy, an epoll instance of the set's own that holds
    // (fd, file) as Linux's set does, without a reference. After the close the proxy still holds
    // the file exactly when it lives on (AfterClose), and then the ring polls the proxy under the
    // registration's id; edges between the poll's removal and that arm wait in the proxy. A
    // released file leaves the proxy empty, kept for the next close. The set's shadow keeps the
    // file's item, so the kernel goes on counting the file's wake-up paths through the set, and the
    // proxy itself stays out of the shadow. The proxy's item is level-triggered (the set does ET and
    // one-shot itself, as for any completion) but for edge-triggered registrations, whose readiness
    // is harvested once per report; so that a ready fd's insertion is not taken for a new edge,
    // that first queueing is drained unless the registration is already waiting to be reported
    // (what the fd's poll has posted is collected first to know). False, with nothing changed,
    // where kcmp, which tells a released file, is refused, or where the kernel refuses the proxy's
    // ADD (an epoll instance nested too deep for one more level).
    private bool StageProxy(Registration registration)
    {
        int fd = registration.Fd;
        if (s_kernelAnswers == false)
            return false;
        int proxy = _spareProxy >= 0 ? _spareProxy : PrivateFds.CreateEpoll();
        if (proxy < 0)
            return false;
        _spareProxy = -1;
        if (ProxyCtl(proxy, LibC.EPOLL_CTL_ADD, fd, registration.Events) != 0)
        {
            RecycleProxy(proxy);
            return false;
        }
        if ((s_kernelAnswers ??= PrivateFds.EpollHolds(proxy, fd) == true) == false)
        {
            LibC.close(proxy);
            return false;
        }
        // Learnt while fd still names the file (see IsDeaf).
        IsDeaf(registration);
        if (IsEdgeOnly(registration.Events))
        {
            // Drained only when the fd's poll vouches that every edge before now has been posted
            // (its completions run on this thread); otherwise the readiness stays queued in the
            // proxy, to be reported as an edge: perhaps a spurious one, never a lost one.
            Collect();
            if (!registration.Queued && _backend.PostsOnThisThread(fd))
                Harvest(proxy);
        }
        else
        {
            CollectForPollers();
        }
        _backend.Untap(fd, registration.Id, keepShadow: true);
        registration.Proxied = true;
        registration.Pending = 0;
        (_proxies ??= [])[registration] = proxy;
        return true;
    }

    // The ring no longer polls the proxy (if it did), which is kept for the next close when its
    // file was released, and closed otherwise (the ring lets go of it with the poll).
    private void DropProxy(Registration registration, bool empty)
    {
        _proxies!.Remove(registration, out int proxy);
        _backend.Untap(proxy, registration.Id, keepShadow: false);
        registration.Proxied = false;
        if (empty)
            RecycleProxy(proxy);
        else
            LibC.close(proxy);
    }

    private void RecycleProxy(int proxy)
    {
        if (_spareProxy < 0 && !Set.IsDisposed)
            _spareProxy = proxy;
        else
            LibC.close(proxy);
    }

    // A proxied registration whose readiness its proxy reads; a nested io_uring set answers for
    // itself (Settle), proxied or not.
    private bool ReadsProxy(Registration registration) => registration.Proxied && NestedRing(registration) is null;

    // A proxied registration's readiness, read through its proxy. A harvest takes the item as
    // epoll_wait does (registered ∩ ready, plus ERR|HUP): an edge-triggered item then leaves the
    // proxy's ready list, as Linux's leaves its own when reported, and what a faulting write could
    // not report waits in Pending. Without a harvest an edge-triggered item is only asked whether
    // it is queued and ready (a poll(2) of the proxy, as Linux polls a nested set), which takes
    // nothing; a level-triggered item's harvest takes nothing either.
    private unsafe EpollEvents ProxyNow(Registration registration, bool harvest)
    {
        if (registration.Removed || registration.Disarmed)
            return 0;
        int proxy = _proxies![registration];
        if (IsEdgeOnly(registration.Events))
        {
            EpollEvents kept = registration.Pending;
            if (kept != 0)
            {
                if (harvest)
                    registration.Pending = 0;
                return kept;
            }
            if (!harvest)
            {
                var poll = new PollFd { fd = proxy, events = (short)PollEvents.POLLIN };
                PollNow(&poll, 1);
                return (poll.revents & (short)PollEvents.POLLIN) != 0 ? registration.Events & Pollable : 0;
            }
        }
        return Harvest(proxy) & registration.Events & Pollable;
    }

    // One epoll_wait of a proxy, which holds one item: its mask, or 0.
    private static unsafe EpollEvents Harvest(int proxy)
    {
        byte* native = stackalloc byte[EpollEvent.Size];
        int count;
        while ((count = LibC.epoll_wait(proxy, native, 1, 0)) < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
        {
        }
        return count == 1 ? EpollEvent.ReadNative(native, 0).Events : 0;
    }

    // epoll_ctl of fd in a proxy, edge-triggered for edge-triggered registrations only, with no data.
    private static int ProxyCtl(int proxy, int op, int fd, EpollEvents events) =>
        PrivateFds.Ctl(proxy, op, fd, (events & Pollable) | (IsEdgeOnly(events) ? EpollEvents.EPOLLET : 0));

    private static bool IsEdgeOnly(EpollEvents events) =>
        (events & (EpollEvents.EPOLLET | EpollEvents.EPOLLONESHOT)) == EpollEvents.EPOLLET;

    // A registration of an epoll instance without EPOLLIN: its tap's completions (a re-armed
    // poll's first report, above all) are not wake-ups Linux would queue it on (see
    // Registration.NamesEpoll). The readlink is paid once, and only by registrations without
    // EPOLLIN of fds that are not EpollGen sets.
    private static bool IsDeaf(Registration registration)
    {
        if ((registration.Events & EpollEvents.EPOLLIN) != 0)
            return false;
        if (!registration.EpollKnown)
        {
            registration.NamesEpoll = registration.Target is not null || IsEpoll(registration.Fd);
            registration.EpollKnown = true;
        }
        return registration.NamesEpoll;
    }
}
