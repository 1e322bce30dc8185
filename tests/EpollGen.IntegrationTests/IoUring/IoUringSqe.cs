namespace EpollGen.IntegrationTests.IoUring;

/// <summary>
/// The fields of <c>struct io_uring_sqe</c> EpollGen's io_uring backend fills. Each kernel union
/// is represented by the member used here: <c>off</c>, <c>addr</c>, <c>rw_flags</c> (the op
/// flags), <c>buf_index</c>, <c>splice_fd_in</c> and <c>addr3</c>.
/// </summary>
[NativeStruct("io_uring_sqe", Size = 64)]
[NativeField("opcode", "__u8")]
[NativeField("flags", "__u8")]
[NativeField("ioprio", "__u16")]
[NativeField("fd", "__s32")]
[NativeField("off", "__u64")]
[NativeField("addr", "__u64")]
[NativeField("len", "__u32")]
[NativeField("rw_flags", "__u32")]
[NativeField("poll32_events", "__u32", Overlays = "rw_flags")]
[NativeField("user_data", "__u64")]
[NativeField("buf_index", "__u16")]
[NativeField("personality", "__u16")]
[NativeField("splice_fd_in", "__s32")]
[NativeField("addr3", "__u64")]
[NativeField("__pad2", "__u64[1]")]
public partial struct IoUringSqe;
