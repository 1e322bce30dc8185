namespace EpollGen.Interop;

/// <summary>
/// Translates FD tap filters to the poll(2) bits the kernel backends (io_uring POLL_ADD, epoll)
/// wait for, and kernel readiness back to tap filters. File-change taps have no poll(2) bit.
/// </summary>
[FlagMap(typeof(TapFilters), typeof(PollEvents), AlwaysReported = TapFilters.FDTAP_FILT_ERROR | TapFilters.FDTAP_FILT_HANGUP)]
[FlagPair(TapFilters.FDTAP_FILT_READABLE, PollEvents.POLLIN)]
[FlagPair(TapFilters.FDTAP_FILT_WRITABLE, PollEvents.POLLOUT)]
[FlagPair(TapFilters.FDTAP_FILT_ERROR, PollEvents.POLLERR)]
[FlagPair(TapFilters.FDTAP_FILT_PRIORITY, PollEvents.POLLPRI)]
[FlagPair(TapFilters.FDTAP_FILT_HANGUP, PollEvents.POLLHUP)]
[FlagPair(TapFilters.FDTAP_FILT_RDHUP, PollEvents.POLLRDHUP)]
[FlagPair(TapFilters.FDTAP_FILT_RDNORM, PollEvents.POLLRDNORM)]
[FlagPair(TapFilters.FDTAP_FILT_RDBAND, PollEvents.POLLRDBAND)]
[FlagPair(TapFilters.FDTAP_FILT_WRNORM, PollEvents.POLLWRNORM)]
[FlagPair(TapFilters.FDTAP_FILT_WRBAND, PollEvents.POLLWRBAND)]
[FlagUnsupported(TapFilters.FDTAP_FILT_WRITTEN, "poll(2) has no bit for writes to a file; watch it with inotify (IN_MODIFY)")]
[FlagUnsupported(TapFilters.FDTAP_FILT_DELETED, "poll(2) has no bit for deletion; watch it with inotify (IN_DELETE_SELF)")]
[FlagUnsupported(TapFilters.FDTAP_FILT_RENAME, "poll(2) has no bit for renames; watch it with inotify (IN_MOVE_SELF)")]
[FlagUnsupported(TapFilters.FDTAP_FILT_TRUNCATE, "poll(2) has no bit for truncation; watch it with inotify (IN_MODIFY)")]
[FlagUnsupported(TapFilters.FDTAP_FILT_ATTRIB, "poll(2) has no bit for attribute changes; watch it with inotify (IN_ATTRIB)")]
public static partial class TapPollMap;
