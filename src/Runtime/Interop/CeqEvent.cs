namespace EpollGen.Interop;

/// <summary>
/// Akaros's <c>struct ceq_event</c>: one id's slot in a coalescing event queue. <c>coalesce</c>
/// accumulates bits (atomic OR or ADD), <c>idx_posted</c> says the id is or will be in the ring.
/// </summary>
[NativeStruct("ceq_event", Size = 32)]
[NativeField("coalesce", "int64_t")]
[NativeField("blob_data", "uint64_t")]
[NativeField("idx_posted", "bool")]
[NativeField("user_data", "uint64_t")]
public partial struct CeqEvent;
