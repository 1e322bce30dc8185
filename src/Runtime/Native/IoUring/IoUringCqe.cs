namespace EpollGen.Native.IoUring;

/// <summary>
/// <c>struct io_uring_cqe</c>, one 16-byte completion entry (rings are not created with
/// <c>IORING_SETUP_CQE32</c>, so there is no <c>big_cqe</c> tail).
/// </summary>
[NativeStruct("io_uring_cqe", Size = 16)]
[NativeField("user_data", "__u64")]
[NativeField("res", "__s32")]
[NativeField("flags", "__u32")]
internal partial struct IoUringCqe;
