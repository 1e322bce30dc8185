namespace EpollGen.Native.IoUring;

/// <summary><c>struct __kernel_timespec</c>: 64-bit seconds and nanoseconds on every architecture.</summary>
[NativeStruct("__kernel_timespec", Size = 16)]
[NativeField("tv_sec", "long long")]
[NativeField("tv_nsec", "long long")]
internal partial struct KernelTimespec;
