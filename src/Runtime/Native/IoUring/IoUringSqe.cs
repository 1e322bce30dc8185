namespace EpollGen.Native.IoUring;

/// <summary>
/// <c>struct io_uring_sqe</c>, one 64-byte submission entry. The kernel's unions are spelled with
/// overlays: <c>addr2</c> over <c>off</c>, <c>splice_off_in</c> over <c>addr</c>, the per-opcode
/// flags over <c>rw_flags</c>, <c>buf_group</c> over <c>buf_index</c> and <c>file_index</c> over
/// <c>splice_fd_in</c>. Only the members the poll, timeout and message-ring operations use are named.
/// </summary>
[NativeStruct("io_uring_sqe", Size = 64)]
[NativeField("opcode", "__u8")]
[NativeField("flags", "__u8")]
[NativeField("ioprio", "__u16")]
[NativeField("fd", "__s32")]
[NativeField("off", "__u64")]
[NativeField("addr2", "__u64", Overlays = "off")]
[NativeField("addr", "__u64")]
[NativeField("splice_off_in", "__u64", Overlays = "addr")]
[NativeField("len", "__u32")]
[NativeField("rw_flags", "__u32")]
[NativeField("poll32_events", "__u32", Overlays = "rw_flags")]
[NativeField("timeout_flags", "__u32", Overlays = "rw_flags")]
[NativeField("msg_ring_flags", "__u32", Overlays = "rw_flags")]
[NativeField("user_data", "__u64")]
[NativeField("buf_index", "__u16")]
[NativeField("buf_group", "__u16", Overlays = "buf_index")]
[NativeField("personality", "__u16")]
[NativeField("splice_fd_in", "__s32")]
[NativeField("file_index", "__u32", Overlays = "splice_fd_in")]
[NativeField("addr3", "__u64")]
[NativeField("__pad2", "__u64[1]")]
internal partial struct IoUringSqe;
