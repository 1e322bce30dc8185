using System;

namespace EpollGen;

/// <summary>
/// One field of a <see cref="NativeStructAttribute"/> struct, in declaration order, with its C type:
/// a fixed-size scalar (<c>uint32_t</c>, <c>int</c>, <c>unsigned long long</c>, <c>__u64</c>, <c>bool</c>, …),
/// a pointer (<c>struct ceq_event *</c>), an array (<c>uint32_t[2]</c>) or, last, a flexible array
/// member (<c>char[]</c>). Sizes are LP64 Linux's.
/// </summary>
[AttributeUsage(AttributeTargets.Struct, AllowMultiple = true, Inherited = false)]
public sealed class NativeFieldAttribute : Attribute
{
    /// <summary>Declares the field <paramref name="name"/> of type <paramref name="cType"/>.</summary>
    /// <param name="name">The C field name; it becomes the C# field name.</param>
    /// <param name="cType">The C type, array bounds included.</param>
    public NativeFieldAttribute(string name, string cType)
    {
        Name = name;
        CType = cType;
    }

    /// <summary>The C field name.</summary>
    public string Name { get; }

    /// <summary>The C type.</summary>
    public string CType { get; }

    /// <summary>
    /// The earlier field this one shares storage with, as a member of a C union does
    /// (<c>epoll_data_t</c>'s <c>fd</c> over <c>u64</c>). It must fit inside that field.
    /// </summary>
    public string? Overlays { get; set; }
}
