using System.Collections.Generic;
using System.Linq;
using System.Text;
using EpollGen.Generators.Common;
using Microsoft.CodeAnalysis.CSharp;

namespace EpollGen.Generators.NativeStructs;

/// <summary>
/// Writes the explicit-layout struct of one native struct spec: its fields at the C offsets, size
/// and offset constants, the C declaration they were computed for, native array access and a
/// self-check. For <c>PackedOnX64</c> it also writes the packed twin used on x86_64, picked by
/// <c>X86Base.X64.IsSupported</c>, which the JIT folds to a constant.
/// </summary>
internal static class NativeStructEmitter
{
    private const string Interop = "global::System.Runtime.InteropServices.";
    private const string Unsafe = "global::System.Runtime.CompilerServices.Unsafe.";
    private const string Inline = "[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]";

    public static string Emit(NativeStructSpec spec)
    {
        var w = new SourceWriter();
        w.Line(SourceWriter.Header);
        string self = spec.Target.Name;
        NativeLayout primary = spec.Primary;
        NativeLayout? x64 = spec.X64Packed;
        string attributes = GeneratedCode.Attribute + "\n" + StructLayout(primary.Size);
        using (w.OpenTarget(spec.Target, attributes, "unsafe "))
        {
            Fields(w, spec, primary, packed: spec.Packing == Packing.Packed);

            w.Summary(x64 is null
                ? $"The C declaration this layout was computed from (LP64 Linux)."
                : $"The C declaration of the natural layout (every architecture but x86_64).");
            w.Line($"public const string CDeclaration = {Literals.String(CDeclaration(spec, packed: spec.Packing == Packing.Packed))};").Line();
            w.Summary($"<c>sizeof(struct {spec.CName})</c> in the layout of this type, in bytes.");
            w.Line($"public const int Size = {Literals.Int(primary.Size)};").Line();
            OffsetConstants(w, spec, "Offsets", primary, $"Field offsets of <c>struct {spec.CName}</c> in the layout of this type, in bytes.");

            if (x64 is not null)
            {
                w.Summary("The C declaration of the packed layout glibc and the kernel use on x86_64.");
                w.Line($"public const string X64CDeclaration = {Literals.String(CDeclaration(spec, packed: true))};").Line();
                w.Summary($"<c>sizeof(struct {spec.CName})</c> on x86_64, where it is packed, in bytes.");
                w.Line($"public const int X64Size = {Literals.Int(x64.Size)};").Line();
                OffsetConstants(w, spec, "X64Offsets", x64, $"Field offsets of <c>struct {spec.CName}</c> on x86_64, where it is packed, in bytes.");

                w.Summary("True on x86_64, where the native struct is packed. The JIT folds this to a constant.");
                w.Line("public static bool IsX64Packed");
                w.Line("{");
                w.Line("    " + Inline);
                w.Line("    get => global::System.Runtime.Intrinsics.X86.X86Base.X64.IsSupported;");
                w.Line("}").Line();
                w.Summary($"<c>sizeof(struct {spec.CName})</c> on this machine: the stride of a native array.");
                w.Line("public static int NativeSize");
                w.Line("{");
                w.Line("    " + Inline);
                w.Line("    get => IsX64Packed ? X64Size : Size;");
                w.Line("}").Line();
                w.Summary($"Field offsets of <c>struct {spec.CName}</c> on this machine, in bytes.");
                using (w.Open("public static class NativeOffsets"))
                {
                    foreach (NativeField field in spec.Fields)
                    {
                        w.Summary($"Offset of <c>{field.Name}</c> on this machine.");
                        w.Line($"public static int {Id(field.Name)}");
                        w.Line("{");
                        w.Line("    " + Inline);
                        w.Line($"    get => IsX64Packed ? X64Offsets.{Id(field.Name)} : Offsets.{Id(field.Name)};");
                        w.Line("}");
                    }
                }
                w.Line();
                w.Summary($"<c>struct {spec.CName}</c> as laid out on x86_64 (packed). Use it through\n<see cref=\"ReadNative\"/> and <see cref=\"WriteNative\"/> rather than directly.");
                w.Line(StructLayout(x64.Size));
                using (w.Open("public struct X64Packed"))
                {
                    Fields(w, spec, x64, packed: true);
                }
                w.Line();
            }
            else
            {
                w.Summary($"<c>sizeof(struct {spec.CName})</c> on this machine: the stride of a native array.");
                w.Line("public const int NativeSize = Size;").Line();
                w.Summary($"Field offsets of <c>struct {spec.CName}</c> on this machine, in bytes.");
                using (w.Open("public static class NativeOffsets"))
                {
                    foreach (NativeField field in spec.Fields)
                    {
                        w.Summary($"Offset of <c>{field.Name}</c>.");
                        w.Line($"public const int {Id(field.Name)} = Offsets.{Id(field.Name)};");
                    }
                }
                w.Line();
            }

            FlexibleArrays(w, spec);
            ReadWrite(w, spec, self);
            CheckLayout(w, spec, self);
        }
        return w.ToString();
    }

    private static string StructLayout(int size) =>
        $"[{Interop}StructLayout({Interop}LayoutKind.Explicit, Size = {Literals.Int(size)})]";

    private static void Fields(SourceWriter w, NativeStructSpec spec, NativeLayout layout, bool packed)
    {
        for (int i = 0; i < spec.Fields.Count; i++)
        {
            NativeField field = spec.Fields[i];
            if (field.IsFlexible)
                continue;
            string union = field.Overlays is { } host ? $", sharing storage with <c>{host}</c>" : "";
            w.Summary($"<c>{field.CTypeText} {field.Name}</c> at offset {Literals.Int(layout.Offsets[i])}{(packed ? " (packed)" : "")}{union}.");
            w.Line($"[{Interop}FieldOffset({Literals.Int(layout.Offsets[i])})]");
            w.Line(field.Type.IsArray
                ? $"public fixed {field.Type.CSharpType} {Id(field.Name)}[{Literals.Int(field.Type.Count)}];"
                : $"public {field.Type.CSharpType} {Id(field.Name)};");
            w.Line();
        }
    }

    private static void OffsetConstants(SourceWriter w, NativeStructSpec spec, string name, NativeLayout layout, string summary)
    {
        w.Summary(summary);
        using (w.Open($"public static class {name}"))
        {
            for (int i = 0; i < spec.Fields.Count; i++)
            {
                w.Summary($"<c>offsetof(struct {spec.CName}, {spec.Fields[i].Name})</c>.");
                w.Line($"public const int {Id(spec.Fields[i].Name)} = {Literals.Int(layout.Offsets[i])};");
            }
        }
        w.Line();
    }

    // A flexible array member has no storage in the struct: it starts at its offset, after the struct.
    private static void FlexibleArrays(SourceWriter w, NativeStructSpec spec)
    {
        foreach (NativeField field in spec.Fields.Where(f => f.IsFlexible))
        {
            string element = field.Type.CSharpType + "*";
            w.Summary($"The first element of the flexible array <c>{field.CTypeText} {field.Name}</c> of the native struct at <paramref name=\"self\"/>.");
            w.Line(Inline);
            w.Line($"public static {element} {Id(field.Name)}(void* self) => ({element})((byte*)self + NativeOffsets.{Id(field.Name)});").Line();
        }
    }

    private static void ReadWrite(SourceWriter w, NativeStructSpec spec, string self)
    {
        bool variant = spec.X64Packed is not null;
        w.Summary($"Reads element <paramref name=\"index\"/> of a native array of <c>struct {spec.CName}</c>,\nwhose stride is <see cref=\"NativeSize\"/>. The address need not be aligned.");
        w.Line(Inline);
        using (w.Open($"public static {self} ReadNative(void* source, nint index = 0)"))
        {
            if (variant)
            {
                using (w.Open("if (IsX64Packed)"))
                {
                    w.Line($"{self} value = default;");
                    w.Line("byte* from = (byte*)source + index * X64Size;");
                    CopyFields(w, spec, "(byte*)&value", "Offsets", "from", "X64Offsets");
                    w.Line("return value;");
                }
            }
            w.Line($"return {Unsafe}ReadUnaligned<{self}>((byte*)source + index * Size);");
        }
        w.Line();
        w.Summary($"Writes <paramref name=\"value\"/> as element <paramref name=\"index\"/> of a native array of\n<c>struct {spec.CName}</c>, whose stride is <see cref=\"NativeSize\"/>. The address need not be aligned.");
        w.Line(Inline);
        using (w.Open($"public static void WriteNative(void* destination, nint index, in {self} value)"))
        {
            if (variant)
            {
                using (w.Open("if (IsX64Packed)"))
                {
                    w.Line("byte* to = (byte*)destination + index * X64Size;");
                    w.Line($"fixed ({self}* from = &value)");
                    w.Line("{");
                    CopyFields(w, spec, "to", "X64Offsets", "(byte*)from", "Offsets", indent: "    ");
                    w.Line("}");
                    w.Line("return;");
                }
            }
            w.Line($"{Unsafe}WriteUnaligned((byte*)destination + index * Size, value);");
        }
        w.Line();
    }

    // Copies every field that owns storage; overlays share it and flexible arrays have none.
    private static void CopyFields(SourceWriter w, NativeStructSpec spec, string to, string toOffsets, string from, string fromOffsets, string indent = "")
    {
        foreach (NativeField field in spec.Fields.Where(f => f.Overlays is null && !f.IsFlexible))
        {
            string name = Id(field.Name);
            w.Line($"{indent}{Unsafe}CopyBlockUnaligned({to} + {toOffsets}.{name}, {from} + {fromOffsets}.{name}, {Literals.Int(field.Type.TotalSize)});");
        }
    }

    private static void CheckLayout(SourceWriter w, NativeStructSpec spec, string self)
    {
        w.Summary($"Checks that the struct's size and field offsets are those of the C layout, and that\nthe process is LP64 where the layout depends on it. Throws InvalidOperationException if not.");
        using (w.Open("public static void CheckLayout()"))
        {
            if (spec.NeedsLp64)
            {
                w.Line("if (sizeof(nint) != 8)");
                w.Line($"    throw new global::System.InvalidOperationException({Literals.String($"struct {spec.CName}: the layout assumes LP64, but pointers here are not 8 bytes")});");
            }
            CheckOne(w, spec, self, "Size", "Offsets");
            if (spec.X64Packed is not null)
                CheckOne(w, spec, "X64Packed", "X64Size", "X64Offsets");
        }
        w.Line();
        w.Line("private static global::System.InvalidOperationException Mismatch(string what, int actual, int expected) =>");
        w.Line("    new global::System.InvalidOperationException(what + \" is \" + actual.ToString(global::System.Globalization.CultureInfo.InvariantCulture) + \", the C layout says \" + expected.ToString(global::System.Globalization.CultureInfo.InvariantCulture));");
    }

    private static void CheckOne(SourceWriter w, NativeStructSpec spec, string type, string size, string offsets)
    {
        string label = $"struct {spec.CName} ({type})";
        w.Line($"if (sizeof({type}) != {size})");
        w.Line($"    throw Mismatch({Literals.String(label + " size")}, sizeof({type}), {size});");
        using (w.Scope())
        {
            w.Line($"{type} probe = default;");
            w.Line("byte* start = (byte*)&probe;");
            foreach (NativeField field in spec.Fields.Where(f => !f.IsFlexible))
            {
                string name = Id(field.Name);
                string address = field.Type.IsArray ? $"(byte*)probe.{name}" : $"(byte*)&probe.{name}";
                w.Line($"if ((int)({address} - start) != {offsets}.{name})");
                w.Line($"    throw Mismatch({Literals.String(label + " offset of " + field.Name)}, (int)({address} - start), {offsets}.{name});");
            }
        }
    }

    /// <summary>The C declaration the spec describes, with union blocks for overlays.</summary>
    internal static string CDeclaration(NativeStructSpec spec, bool packed)
    {
        var text = new StringBuilder("struct ").Append(spec.CName).Append(" {\n");
        foreach (NativeField field in spec.Fields.Where(f => f.Overlays is null))
        {
            var overlays = spec.Fields.Where(f => f.Overlays == field.Name).ToList();
            if (overlays.Count == 0)
            {
                text.Append("    ").Append(Declarator(field)).Append(";\n");
                continue;
            }
            text.Append("    union {\n        ").Append(Declarator(field)).Append(";\n");
            foreach (NativeField overlay in overlays)
                text.Append("        ").Append(Declarator(overlay)).Append(";\n");
            text.Append("    };\n");
        }
        return text.Append(packed ? "} __attribute__((packed));" : "};").ToString();
    }

    private static string Declarator(NativeField field)
    {
        string type = field.CTypeText.Trim();
        int bracket = type.IndexOf('[');
        return bracket < 0
            ? type + " " + field.Name
            : type.Substring(0, bracket).TrimEnd() + " " + field.Name + type.Substring(bracket);
    }

    /// <summary>A C name as a C# identifier: keywords get an <c>@</c>.</summary>
    internal static string Id(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;
}
