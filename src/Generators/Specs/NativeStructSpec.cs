using EpollGen.Generators.Common;

namespace EpollGen.Generators;

/// <summary>How a native struct is packed, mirroring the runtime's <c>NativePacking</c> values.</summary>
internal enum Packing
{
    /// <summary>Natural C alignment everywhere.</summary>
    Natural = 0,

    /// <summary><c>__attribute__((packed))</c> everywhere.</summary>
    Packed = 1,

    /// <summary>Packed on x86_64 only, natural elsewhere: glibc's <c>__EPOLL_PACKED</c>.</summary>
    PackedOnX64 = 2,
}

/// <summary>A valid native struct spec with its computed layouts. Value-equatable, symbol-free.</summary>
/// <param name="Target">The partial struct that receives the fields.</param>
/// <param name="CName">The C struct tag: <c>epoll_event</c>.</param>
/// <param name="Packing">The packing rule.</param>
/// <param name="Fields">Fields in declaration order.</param>
/// <param name="Primary">The layout of the struct type itself: natural, or packed for <see cref="Packing.Packed"/>.</param>
/// <param name="X64Packed">For <see cref="Packing.PackedOnX64"/>, the packed layout used on x86_64.</param>
internal sealed record NativeStructSpec(
    TypeTarget Target,
    string CName,
    Packing Packing,
    EquatableArray<NativeField> Fields,
    NativeLayout Primary,
    NativeLayout? X64Packed)
{
    /// <summary>True when some field's size depends on the LP64 data model.</summary>
    public bool NeedsLp64 => System.Linq.Enumerable.Any(Fields, f => f.Type.IsPointerSized);
}

/// <summary>One field as declared: its C name, its C type as written, and how that type lays out.</summary>
/// <param name="Name">The C field name.</param>
/// <param name="CTypeText">The C type exactly as the spec wrote it.</param>
/// <param name="Type">The parsed type.</param>
/// <param name="Overlays">The earlier field this one shares storage with (a union member), or null.</param>
internal sealed record NativeField(string Name, string CTypeText, CType Type, string? Overlays)
{
    /// <summary>True for <c>T[]</c>: it has an offset but no storage.</summary>
    public bool IsFlexible => Type.IsArray && Type.Count == 0;
}

/// <summary>A computed layout: total size, alignment, and each field's offset in field order.</summary>
internal sealed record NativeLayout(int Size, int Alignment, EquatableArray<int> Offsets);
