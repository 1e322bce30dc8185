namespace EpollGen.Native.IoUring;

/// <summary>
/// <c>struct io_sqring_offsets</c>: where the submission ring's indexes, mask, flags and index
/// array sit in the memory mapped at <c>IORING_OFF_SQ_RING</c>.
/// </summary>
[NativeStruct("io_sqring_offsets", Size = 40)]
[NativeField("head", "__u32")]
[NativeField("tail", "__u32")]
[NativeField("ring_mask", "__u32")]
[NativeField("ring_entries", "__u32")]
[NativeField("flags", "__u32")]
[NativeField("dropped", "__u32")]
[NativeField("array", "__u32")]
[NativeField("resv1", "__u32")]
[NativeField("resv2", "__u64")]
internal partial struct IoSqringOffsets;
