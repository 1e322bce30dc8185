namespace EpollGen.Native.IoUring;

/// <summary>
/// <c>struct io_uring_getevents_arg</c>, what io_uring_enter(2) reads instead of a bare sigmask
/// when <c>IORING_ENTER_EXT_ARG</c> is set: a signal mask and a relative timeout
/// (<c>ts</c> is the address of a <see cref="KernelTimespec"/>, or 0 for none).
/// </summary>
[NativeStruct("io_uring_getevents_arg", Size = 24)]
[NativeField("sigmask", "__u64")]
[NativeField("sigmask_sz", "__u32")]
[NativeField("pad", "__u32")]
[NativeField("ts", "__u64")]
internal partial struct IoUringGeteventsArg;
