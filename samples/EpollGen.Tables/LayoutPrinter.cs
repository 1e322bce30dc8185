using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;

namespace EpollGen.Tables;

/// <summary>Prints one <see cref="NativeStructAttribute"/> struct: its layout check, sizes, offsets and C declaration.</summary>
internal static class LayoutPrinter
{
    /// <summary>Returns false when the struct's <c>CheckLayout</c> threw.</summary>
    public static bool Print(TextWriter output, Type type)
    {
        var spec = type.GetCustomAttribute<NativeStructAttribute>()!;
        output.WriteLine($"struct {spec.CName} ({type.FullName})");

        bool ok = true;
        try
        {
            Generated.Call(type, "CheckLayout");
            output.WriteLine("  layout check: ok");
        }
        catch (InvalidOperationException e)
        {
            output.WriteLine("  layout check: FAILED: " + e.Message);
            ok = false;
        }

        Type offsets = Generated.Nested(type, "Offsets");
        Type? x64Offsets = Generated.NestedOrNull(type, "X64Offsets");
        string sizes = $"  size: {Generated.Value(type, "Size")}";
        if (x64Offsets is not null)
            sizes += $", x86_64 (packed): {Generated.Value(type, "X64Size")}";
        output.WriteLine(sizes + $"; on this machine: {Generated.Value(type, "NativeSize")}");

        // The generated offset constants are declared in field order; metadata tokens keep that order.
        FieldInfo[] fields = offsets.GetFields(BindingFlags.Public | BindingFlags.Static)
            .OrderBy(f => f.MetadataToken)
            .ToArray();
        var cTypes = type.GetCustomAttributes<NativeFieldAttribute>().ToDictionary(f => f.Name, f => f);
        int nameWidth = Math.Max("field".Length, fields.Max(f => f.Name.Length));
        int typeWidth = Math.Max("C type".Length, cTypes.Values.Max(f => f.CType.Length));
        string header = $"    {"field".PadRight(nameWidth)}  {"C type".PadRight(typeWidth)}  offset";
        output.WriteLine(x64Offsets is null ? header : header + "  x86_64");
        foreach (FieldInfo field in fields)
        {
            NativeFieldAttribute? declared = cTypes.GetValueOrDefault(field.Name);
            string line = $"    {field.Name.PadRight(nameWidth)}  {(declared?.CType ?? "?").PadRight(typeWidth)}  {field.GetValue(null),6}";
            if (x64Offsets is not null)
                line += $"  {Generated.Value(x64Offsets, field.Name),6}";
            if (declared?.Overlays is { } overlaid)
                line += $"  (overlays {overlaid})";
            output.WriteLine(line);
        }

        PrintDeclaration(output, "C declaration", (string)Generated.Value(type, "CDeclaration"));
        if (Generated.ValueOrNull(type, "X64CDeclaration") is string x64)
            PrintDeclaration(output, "x86_64 C declaration", x64);
        return ok;
    }

    private static void PrintDeclaration(TextWriter output, string title, string declaration)
    {
        output.WriteLine($"  {title}:");
        foreach (string line in declaration.Split('\n'))
            output.WriteLine("    " + line);
    }
}
