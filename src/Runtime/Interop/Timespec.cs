namespace EpollGen.Interop;

/// <summary><c>struct timespec</c> of epoll_pwait2(2): seconds and nanoseconds (LP64: two longs).</summary>
[NativeStruct("timespec", Size = 16)]
[NativeField("tv_sec", "long")]
[NativeField("tv_nsec", "long")]
public partial struct Timespec;
