namespace EpollGen.Native.IoUring;

/// <summary>
/// <c>struct io_cqring_offsets</c>: where the completion ring's indexes, mask, overflow counter
/// and CQE array sit in the memory mapped at <c>IORING_OFF_CQ_RING</c>.
/// </summary>
[NativeStruct("io_cqring_offsets", Size = 40)]
[NativeField("head", "__u32")]
[NativeField("tail", "__u32")]
[NativeField("ring_mask", "__u32")]
[NativeField("ring_entries", "__u32")]
[NativeField("overflow", "__u32")]
[NativeField("cqes", "__u32")]
[NativeField("flags", "__u32")]
[NativeField("resv1", "__u32")]
[NativeField("resv2", "__u64")]
internal partial struct IoCqringOffsets;
