using System;

namespace EpollGen;

/// <summary>
/// Declares the partial struct it marks as a C struct, laid out as on LP64 Linux. EpollGen's
/// generator adds the fields of the <see cref="NativeFieldAttribute"/>s at their C offsets, with
/// <c>Size</c>, <c>Offsets</c>, <c>NativeSize</c>, <c>NativeOffsets</c>, <c>CDeclaration</c>,
/// <c>ReadNative</c>/<c>WriteNative</c> for native arrays and a <c>CheckLayout</c> self-check.
/// </summary>
/// <remarks>The project needs <c>AllowUnsafeBlocks</c>: the generated struct is unsafe.</remarks>
[AttributeUsage(AttributeTargets.Struct, Inherited = false)]
public sealed class NativeStructAttribute : Attribute
{
    /// <summary>Declares the struct <c>struct <paramref name="cName"/></c>.</summary>
    /// <param name="cName">The C struct tag, such as <c>epoll_event</c>.</param>
    public NativeStructAttribute(string cName) => CName = cName;

    /// <summary>The C struct tag.</summary>
    public string CName { get; }

    /// <summary>How the struct is packed; natural by default.</summary>
    public NativePacking Packing { get; set; }

    /// <summary>
    /// The size the generated type must have, in bytes (the natural size unless
    /// <see cref="Packing"/> is <see cref="NativePacking.Packed"/>); 0 leaves it unchecked.
    /// </summary>
    public int Size { get; set; }

    /// <summary>The size the struct must have on x86_64, in bytes; 0 leaves it unchecked.</summary>
    public int X64Size { get; set; }
}
