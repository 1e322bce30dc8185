namespace EpollGen.Interop;

/// <summary>
/// <c>struct epoll_event</c>: 16 bytes with <c>data</c> at 8, except on x86_64, where the kernel
/// packs it to 12 bytes with <c>data</c> at 4. <c>data</c> is the <c>epoll_data_t</c> union; its
/// members <c>fd</c>, <c>u32</c> and <c>ptr</c> overlay it.
/// </summary>
[NativeStruct("epoll_event", Packing = NativePacking.PackedOnX64, Size = 16, X64Size = 12)]
[NativeField("events", "uint32_t")]
[NativeField("data", "uint64_t")]
[NativeField("fd", "int", Overlays = "data")]
[NativeField("u32", "uint32_t", Overlays = "data")]
[NativeField("ptr", "void *", Overlays = "data")]
public partial struct EpollEvent;
