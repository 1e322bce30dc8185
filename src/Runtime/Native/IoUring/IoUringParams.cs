namespace EpollGen.Native.IoUring;

/// <summary>
/// <c>struct io_uring_params</c>, which io_uring_setup(2) reads the requested sizes and flags from
/// and writes the granted sizes, the features and the ring offsets into. The generator has no
/// structs by value, so <c>sq_off</c> and <c>cq_off</c> are spelled as 40-byte <c>__u64</c> arrays
/// (which also gives the struct the kernel's 8-byte alignment) and read through
/// <c>SqOffsets</c> and <c>CqOffsets</c> (IoUringParams.RingOffsets.cs).
/// </summary>
[NativeStruct("io_uring_params", Size = 120)]
[NativeField("sq_entries", "__u32")]
[NativeField("cq_entries", "__u32")]
[NativeField("flags", "__u32")]
[NativeField("sq_thread_cpu", "__u32")]
[NativeField("sq_thread_idle", "__u32")]
[NativeField("features", "__u32")]
[NativeField("wq_fd", "__u32")]
[NativeField("resv", "__u32[3]")]
[NativeField("sq_off", "__u64[5]")]
[NativeField("cq_off", "__u64[5]")]
internal partial struct IoUringParams;
