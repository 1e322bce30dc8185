using System;
using System.Collections.Generic;
using System.Globalization;

namespace EpollGen.Generators;

/// <summary>
/// A C field type as LP64 Linux lays it out (x86_64, arm64 and every other 64-bit Linux ABI .NET
/// runs on): its C# spelling, element size and alignment, and array shape.
/// </summary>
/// <param name="CSharpType">The C# type of one element (<c>uint</c>, <c>void*</c>).</param>
/// <param name="Size">Bytes per element.</param>
/// <param name="Alignment">Natural alignment of one element.</param>
/// <param name="Count">1 for a scalar, N for <c>T[N]</c>, 0 for a flexible array member <c>T[]</c>.</param>
/// <param name="IsArray">True for <c>T[N]</c> and <c>T[]</c>.</param>
/// <param name="IsPointerSized">True when the size depends on the data model (pointers, long, size_t).</param>
internal readonly record struct CType(string CSharpType, int Size, int Alignment, int Count, bool IsArray, bool IsPointerSized)
{
    /// <summary>Bytes the field occupies: element size times count (0 for a flexible array).</summary>
    public int TotalSize => Size * Count;

    // Scalars with a fixed LP64 size. char is byte because its signedness differs between ABIs.
    private static readonly Dictionary<string, (string CSharp, int Size, bool PointerSized)> Scalars = new(StringComparer.Ordinal)
    {
        ["int8_t"] = ("sbyte", 1, false), ["uint8_t"] = ("byte", 1, false),
        ["int16_t"] = ("short", 2, false), ["uint16_t"] = ("ushort", 2, false),
        ["int32_t"] = ("int", 4, false), ["uint32_t"] = ("uint", 4, false),
        ["int64_t"] = ("long", 8, false), ["uint64_t"] = ("ulong", 8, false),
        ["__s8"] = ("sbyte", 1, false), ["__u8"] = ("byte", 1, false),
        ["__s16"] = ("short", 2, false), ["__u16"] = ("ushort", 2, false),
        ["__s32"] = ("int", 4, false), ["__u32"] = ("uint", 4, false),
        ["__s64"] = ("long", 8, false), ["__u64"] = ("ulong", 8, false),
        ["__aligned_u64"] = ("ulong", 8, false),
        ["char"] = ("byte", 1, false), ["signed char"] = ("sbyte", 1, false), ["unsigned char"] = ("byte", 1, false),
        ["bool"] = ("bool", 1, false), ["_Bool"] = ("bool", 1, false),
        ["short"] = ("short", 2, false), ["short int"] = ("short", 2, false), ["signed short"] = ("short", 2, false),
        ["unsigned short"] = ("ushort", 2, false), ["unsigned short int"] = ("ushort", 2, false),
        ["int"] = ("int", 4, false), ["signed"] = ("int", 4, false), ["signed int"] = ("int", 4, false),
        ["unsigned"] = ("uint", 4, false), ["unsigned int"] = ("uint", 4, false),
        ["long"] = ("long", 8, true), ["long int"] = ("long", 8, true), ["signed long"] = ("long", 8, true),
        ["unsigned long"] = ("ulong", 8, true), ["unsigned long int"] = ("ulong", 8, true),
        ["long long"] = ("long", 8, false), ["long long int"] = ("long", 8, false),
        ["unsigned long long"] = ("ulong", 8, false), ["unsigned long long int"] = ("ulong", 8, false),
        ["float"] = ("float", 4, false), ["double"] = ("double", 8, false),
        ["size_t"] = ("nuint", 8, true), ["ssize_t"] = ("nint", 8, true),
        ["intptr_t"] = ("nint", 8, true), ["uintptr_t"] = ("nuint", 8, true), ["ptrdiff_t"] = ("nint", 8, true),
        ["off_t"] = ("long", 8, false), ["off64_t"] = ("long", 8, false), ["loff_t"] = ("long", 8, false),
        ["pid_t"] = ("int", 4, false), ["uid_t"] = ("uint", 4, false), ["gid_t"] = ("uint", 4, false),
        ["socklen_t"] = ("uint", 4, false),
    };

    // C# types a fixed-size buffer may hold; other element types are widened to an integer of the same size.
    private static readonly HashSet<string> FixedBufferTypes = new(StringComparer.Ordinal)
    {
        "bool", "byte", "sbyte", "short", "ushort", "int", "uint", "long", "ulong", "float", "double",
    };

    /// <summary>
    /// Parses <c>uint32_t</c>, <c>unsigned long long</c>, <c>struct ceq_event *</c>, <c>uint32_t[2]</c>
    /// or <c>char[]</c>. Returns null for anything without a fixed LP64 size: unknown names,
    /// <c>void</c>, <c>long double</c>, structs by value, zero or negative array lengths.
    /// </summary>
    public static CType? Parse(string? text)
    {
        if (text is null)
            return null;
        string t = Normalize(text);
        int count = 1;
        bool isArray = false;
        if (t.EndsWith("]", StringComparison.Ordinal))
        {
            int open = t.LastIndexOf('[');
            if (open <= 0)
                return null;
            string length = t.Substring(open + 1, t.Length - open - 2).Trim();
            isArray = true;
            if (length.Length == 0)
                count = 0;
            else if (!int.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count <= 0 || count > 1 << 20)
                return null;
            t = t.Substring(0, open).TrimEnd();
            if (t.EndsWith("]", StringComparison.Ordinal))
                return null; // multi-dimensional arrays: spell them as one flat array
        }

        CType? element = ParseElement(t);
        if (element is not { } e)
            return null;
        string csharp = e.CSharpType;
        if (isArray && !FixedBufferTypes.Contains(csharp))
            csharp = e.Size == 8 ? "ulong" : e.Size == 4 ? "uint" : e.Size == 2 ? "ushort" : "byte";
        return new CType(csharp, e.Size, e.Alignment, count, isArray, e.IsPointerSized);
    }

    private static CType? ParseElement(string t)
    {
        if (t.EndsWith("*", StringComparison.Ordinal))
        {
            string pointee = t.Substring(0, t.Length - 1).TrimEnd();
            if (pointee.Length == 0)
                return null;
            string csharp = "void*";
            if (Scalars.TryGetValue(pointee, out var scalar) && scalar.CSharp is not ("bool" or "nint" or "nuint") && !scalar.CSharp.EndsWith("*", StringComparison.Ordinal))
                csharp = scalar.CSharp + "*";
            else if (pointee.EndsWith("*", StringComparison.Ordinal))
                csharp = "void**";
            else if (!IsNamedPointee(pointee))
                return null;
            return new CType(csharp, 8, 8, 1, false, true);
        }
        if (Scalars.TryGetValue(t, out var s))
            return new CType(s.CSharp, s.Size, s.Size, 1, false, s.PointerSized);
        return null;
    }

    // A pointer may point at anything that names a type: void, a scalar, struct X, union X, a typedef name.
    private static bool IsNamedPointee(string pointee)
    {
        string name = pointee;
        if (name.StartsWith("struct ", StringComparison.Ordinal) || name.StartsWith("union ", StringComparison.Ordinal) || name.StartsWith("enum ", StringComparison.Ordinal))
            name = name.Substring(name.IndexOf(' ') + 1);
        return IsIdentifier(name);
    }

    // Collapses runs of whitespace, drops qualifiers that do not change layout, and attaches '*'.
    private static string Normalize(string text)
    {
        var words = new List<string>();
        foreach (string raw in text.Replace("*", " * ").Replace("[", " [").Split(new[] { ' ', '\t', '\n', '\r' }, StringSplitOptions.RemoveEmptyEntries))
        {
            if (raw is "const" or "volatile" or "restrict")
                continue;
            words.Add(raw);
        }
        string joined = string.Join(" ", words);
        return joined.Replace(" *", "*").Replace(" [", "[");
    }

    /// <summary>True for a C identifier: a letter or underscore, then letters, digits, underscores.</summary>
    public static bool IsIdentifier(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return false;
        for (int i = 0; i < name!.Length; i++)
        {
            char c = name[i];
            bool ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or '_' || (i > 0 && c is >= '0' and <= '9');
            if (!ok)
                return false;
        }
        return true;
    }
}
