using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using Xunit;

namespace EpollGen.Testing;

/// <summary>
/// One layout a generated native struct claims: the C declaration it was computed from, its size and
/// its field offsets, read by reflection so any <c>[NativeStruct]</c> type can be checked the same way.
/// </summary>
/// <param name="Type">The generated type.</param>
/// <param name="Tag">The C struct tag the declaration uses.</param>
/// <param name="Declaration">The C declaration.</param>
/// <param name="Size">The claimed <c>sizeof</c>.</param>
/// <param name="Offsets">The claimed <c>offsetof</c> of each field, in declaration order.</param>
internal sealed record GeneratedLayout(Type Type, string Tag, string Declaration, int Size, IReadOnlyList<KeyValuePair<string, int>> Offsets)
{
    /// <summary>The layout of the type itself: <c>CDeclaration</c>, <c>Size</c>, <c>Offsets</c>.</summary>
    public static GeneratedLayout Primary(Type type)
    {
        string tag = type.GetCustomAttribute<NativeStructAttribute>()!.CName;
        return new GeneratedLayout(type, tag, Constant<string>(type, "CDeclaration"), Constant<int>(type, "Size"), OffsetsOf(type, "Offsets"));
    }

    /// <summary>
    /// The packed x86_64 layout of a <c>PackedOnX64</c> struct, or null. Its declaration is retagged
    /// <c>&lt;tag&gt;_x64</c> so it can sit in one C file beside the natural one.
    /// </summary>
    public static GeneratedLayout? X64(Type type)
    {
        if (type.GetField("X64CDeclaration") is null)
            return null;
        string tag = type.GetCustomAttribute<NativeStructAttribute>()!.CName;
        string declaration = Constant<string>(type, "X64CDeclaration");
        string head = $"struct {tag} {{";
        Assert.StartsWith(head, declaration);
        string retagged = $"struct {tag}_x64 {{" + declaration.Substring(head.Length);
        return new GeneratedLayout(type, tag + "_x64", retagged, Constant<int>(type, "X64Size"), OffsetsOf(type, "X64Offsets"));
    }

    /// <summary>The C expressions whose values this layout claims: sizeof, then offsetof per field.</summary>
    public IReadOnlyList<string> Expressions(string tag) =>
        new[] { $"sizeof(struct {tag})" }.Concat(Offsets.Select(o => $"offsetof(struct {tag}, {o.Key})")).ToArray();

    /// <summary>The claimed values as "expression = value" lines, a readable diff when one is wrong.</summary>
    public IReadOnlyList<string> Claims(string tag) =>
        Describe(Expressions(tag), new long[] { Size }.Concat(Offsets.Select(o => (long)o.Value)).ToArray());

    /// <summary>Asserts gcc computes this layout's claims for <c>struct <paramref name="tag"/></c> after <paramref name="prelude"/>.</summary>
    public void AssertGccAgrees(string prelude, string tag)
    {
        IReadOnlyList<string> expressions = Expressions(tag);
        Assert.Equal(Claims(tag), Describe(expressions, Gcc.Evaluate(prelude, expressions)));
    }

    private static IReadOnlyList<string> Describe(IReadOnlyList<string> expressions, long[] values) =>
        expressions.Select((e, i) => e + " = " + values[i].ToString(CultureInfo.InvariantCulture)).ToArray();

    private static T Constant<T>(Type type, string name) =>
        (T)(type.GetField(name, BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue()
            ?? throw new InvalidOperationException($"{type} has no constant {name}"));

    // Metadata order is declaration order, which is the C field order the generator emitted.
    private static IReadOnlyList<KeyValuePair<string, int>> OffsetsOf(Type type, string nested)
    {
        Type holder = type.GetNestedType(nested) ?? throw new InvalidOperationException($"{type} has no nested {nested}");
        return holder.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .OrderBy(f => f.MetadataToken)
            .Select(f => new KeyValuePair<string, int>(f.Name, (int)f.GetRawConstantValue()!))
            .ToArray();
    }
}
