namespace EpollGen.Interop;

/// <summary>
/// Akaros's <c>struct fd_tap_req</c>: one request of a <c>sys_tap_fds</c> batch: tap <c>fd</c> for
/// <c>filter</c> and post id <c>ev_id</c> to <c>ev_q</c> (<c>cmd</c> is ADD 1, REM 2 or MOD 3).
/// </summary>
[NativeStruct("fd_tap_req", Size = 32)]
[NativeField("fd", "int")]
[NativeField("cmd", "int")]
[NativeField("filter", "int")]
[NativeField("ev_id", "int")]
[NativeField("ev_q", "struct event_queue *")]
[NativeField("data", "void *")]
public partial struct FdTapReq;
