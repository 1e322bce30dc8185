namespace EpollGen.IntegrationTests.Inotify;

/// <summary>
/// Translates inotify watch masks to the file-change FD tap filters they implement. Watch options
/// steer inotify_add_watch and never reach a tap; read access and opens have no tap at all.
/// </summary>
[FlagMap(typeof(InotifyMask), typeof(EpollGen.Interop.TapFilters))]
[FlagPair(InotifyMask.IN_MODIFY, EpollGen.Interop.TapFilters.FDTAP_FILT_WRITTEN)]
[FlagPair(InotifyMask.IN_DELETE_SELF, EpollGen.Interop.TapFilters.FDTAP_FILT_DELETED)]
[FlagPair(InotifyMask.IN_MOVE_SELF, EpollGen.Interop.TapFilters.FDTAP_FILT_RENAME)]
[FlagPair(InotifyMask.IN_ATTRIB, EpollGen.Interop.TapFilters.FDTAP_FILT_ATTRIB)]
[FlagMode(InotifyMask.IN_ONESHOT)]
[FlagMode(InotifyMask.IN_MASK_ADD)]
[FlagMode(InotifyMask.IN_ONLYDIR)]
[FlagMode(InotifyMask.IN_DONT_FOLLOW)]
[FlagUnsupported(InotifyMask.IN_ACCESS, "FD taps report changes, not reads; there is no tap for read access")]
[FlagUnsupported(InotifyMask.IN_OPEN, "FD taps report changes, not opens; there is no tap for open(2)")]
public static partial class InotifyTapMap;
