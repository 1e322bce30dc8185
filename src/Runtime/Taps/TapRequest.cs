using EpollGen.Events;
using EpollGen.Interop;

namespace EpollGen.Taps;

/// <summary>
/// One request of a <see cref="FdTaps.Submit"/> batch: tap <see cref="Fd"/> and post
/// <see cref="Id"/> to <see cref="Queue"/> whenever the fd edges into <see cref="Filter"/>. A tap
/// is named by (fd, queue, id), so one fd may carry any number of taps.
/// </summary>
/// <param name="Fd">The file descriptor.</param>
/// <param name="Command">Add, remove or modify.</param>
/// <param name="Filter">The conditions to report; error and hang-up are always reported.</param>
/// <param name="Queue">The queue that receives the posts.</param>
/// <param name="Id">The id posted, allocated from <paramref name="Queue"/>.</param>
/// <param name="Modes">How the tap fires (Add and Modify).</param>
public readonly record struct TapRequest(int Fd, TapCommand Command, TapFilters Filter, EventQueue Queue, CeqId Id, TapModes Modes = TapModes.None);
