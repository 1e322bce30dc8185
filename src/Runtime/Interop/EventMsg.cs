namespace EpollGen.Interop;

/// <summary>
/// Akaros's <c>struct event_msg</c>. Posted to a CEQ, <c>ev_type</c> is the id, <c>ev_arg2</c> the
/// coalesced tap filter bits and <c>ev_arg3</c> the blob.
/// </summary>
[NativeStruct("event_msg", Size = 24)]
[NativeField("ev_type", "uint16_t")]
[NativeField("ev_arg1", "uint16_t")]
[NativeField("ev_arg2", "uint32_t")]
[NativeField("ev_arg3", "void *")]
[NativeField("ev_arg4", "uint64_t")]
public partial struct EventMsg;
