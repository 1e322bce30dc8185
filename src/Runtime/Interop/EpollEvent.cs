namespace EpollGen.Interop;

/// <summary>
/// <c>struct epoll_event</c>: 16 bytes with <c>data</c> at 8, except on x86_64, where the kernel
/// packs it to 12 bytes with <c>data</c> at 4. <c>data</c> is the <c>epoll_data_t</c> union; its
/// members <c>fd</c>, <c>u32</c> and <c>ptr</c> overlay it. <see cref="Events"/> reads and writes
/// <c>events</c> as <see cref="EpollEvents"/>.
/// </summary>
[NativeStruct("epoll_event", Packing = NativePacking.PackedOnX64, Size = 16, X64Size = 12)]
[NativeField("events", "uint32_t")]
[NativeField("data", "uint64_t")]
[NativeField("fd", "int", Overlays = "data")]
[NativeField("u32", "uint32_t", Overlays = "data")]
[NativeField("ptr", "void *", Overlays = "data")]
public partial struct EpollEvent
{
    // Hand-written beside the generated fields rather than generated: a property adds no storage, so
    // the C layout, the generated code and its layout checks stay as they are.

    /// <summary><c>events</c> typed: the same four bytes, as <see cref="EpollEvents"/> bits.</summary>
    public EpollEvents Events
    {
        readonly get => (EpollEvents)events;
        set => events = (uint)value;
    }
}
