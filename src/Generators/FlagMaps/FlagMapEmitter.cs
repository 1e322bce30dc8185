using System.Collections.Generic;
using System.Linq;
using EpollGen.Generators.Common;

namespace EpollGen.Generators.FlagMaps;

/// <summary>Writes the translation, masks, formatting and parsing of one flag map.</summary>
internal static class FlagMapEmitter
{
    public static string Emit(FlagMapSpec spec, bool tablesAvailable)
    {
        var w = new SourceWriter();
        w.Line(SourceWriter.Header);
        FlagEnum source = spec.Source, target = spec.Destination;
        int bits = source.Bits > 32 || target.Bits > 32 ? 64 : 32;
        using (w.OpenTarget(spec.Target, GeneratedCode.Attribute))
        {
            ulong mappedSource = spec.Pairs.Aggregate(0UL, (m, p) => m | p.Source);
            ulong mappedTarget = spec.Pairs.Aggregate(0UL, (m, p) => m | p.Destination);
            ulong unsupported = spec.Unsupported.Aggregate(0UL, (m, u) => m | u.Bit);

            Mask(w, source, "SourceMapped", mappedSource, $"Every {source.Name} bit that translates to {target.Name}.");
            Mask(w, target, "TargetMapped", mappedTarget, $"Every {target.Name} bit that translates back to {source.Name}.");
            Mask(w, source, "SourceModes", spec.Modes, $"{source.Name} bits that steer behaviour and have no {target.Name} counterpart.");
            Mask(w, source, "SourceUnsupported", unsupported, $"{source.Name} bits that cannot be honoured; see <see cref=\"GetUnsupportedReason\"/>.");
            Mask(w, source, "SourceAlwaysReported", spec.AlwaysReported, $"{source.Name} bits reported whether or not they were requested.");
            Mask(w, source, "SourceKnown", source.Known, $"Every bit some member of {source.Name} sets.");
            Mask(w, target, "TargetKnown", target.Known, $"Every bit some member of {target.Name} sets.");

            var tables = new List<(string Name, string Element, ulong[] Entries)>();
            Translate(w, tables, tablesAvailable, "ToTarget", source, target, spec.Pairs.Select(p => (p.Source, p.Destination)).ToList(), bits,
                $"Translates {source.Name} to {target.Name} {{how}}, no branches.\nBits outside <see cref=\"SourceMapped\"/> (modes, unsupported and unknown bits) are dropped.");
            Translate(w, tables, tablesAvailable, "ToSource", target, source, spec.Pairs.Select(p => (p.Destination, p.Source)).ToList(), bits,
                $"Translates {target.Name} back to {source.Name} {{how}}, no branches.\nBits outside <see cref=\"TargetMapped\"/> are dropped.");

            w.Summary($"Why the given {source.Name} flag cannot be honoured, or null when it can. Takes exactly one flag.");
            using (w.Open($"public static string? GetUnsupportedReason({source.TypeName} flag)"))
            {
                using (w.Open($"switch ({Widen("flag", source, 64)})"))
                {
                    foreach (UnsupportedFlag u in spec.Unsupported)
                        w.Line($"case {Literals.Hex(u.Bit, 64)}: return {Literals.String(u.Reason)};");
                    w.Line("default: return null;");
                }
            }
            w.Line();

            FlagFormatEmitter.Emit(w, source);
            if (target.TypeName != source.TypeName)
                FlagFormatEmitter.Emit(w, target);
            FlagFormatEmitter.EmitHelpers(w);
            foreach ((string tableName, string element, ulong[] entries) in tables)
                Table(w, tableName, element, entries);
        }
        return w.ToString();
    }

    private static void Mask(SourceWriter w, FlagEnum type, string name, ulong value, string summary)
    {
        w.Summary(summary + "\n<c>" + FlagMapReader.Spell(type, value) + "</c>");
        w.Line($"public const {type.TypeName} {name} = {Literals.EnumConstant(type.TypeName, value, type.Bits)};").Line();
    }

    // Two branch-free forms, picked per direction by what the flag-translation benchmark measured
    // (docs/benchmarks.md): shifts and masks cost an AND, a shift and an OR per distinct shift
    // distance; lookup tables cost a load and an OR per source byte that holds mapped bits. Tables
    // win once they need fewer than half as many steps. A table is a static readonly array, made
    // once: a ReadOnlySpan<ushort> property of constants is kept in the image only when the compiler
    // optimizes, and in a consumer's Debug build made a new array on every read. From .NET 8 the JIT
    // places such arrays on the frozen heap and knows their length, so the masked index needs no
    // bounds check.
    private static void Translate(
        SourceWriter w, List<(string Name, string Element, ulong[] Entries)> tables, bool tablesAvailable,
        string name, FlagEnum from, FlagEnum to, List<(ulong From, ulong To)> pairs, int bits, string summary)
    {
        var groups = pairs
            .GroupBy(p => Log2(p.To) - Log2(p.From))
            .OrderBy(g => g.Key)
            .Select(g => (Shift: g.Key, Mask: g.Aggregate(0UL, (m, p) => m | p.From)))
            .ToList();
        var sourceBytes = pairs.Select(p => Log2(p.From) / 8).Distinct().OrderBy(b => b).ToList();
        bool useTables = tablesAvailable && 2 * sourceBytes.Count < groups.Count;
        string work = bits == 32 ? "uint" : "ulong";

        List<string> terms;
        if (useTables)
        {
            int widest = pairs.Max(p => Log2(p.To));
            string element = widest < 8 ? "byte" : widest < 16 ? "ushort" : widest < 32 ? "uint" : "ulong";
            terms = new List<string>();
            foreach (int b in sourceBytes)
            {
                string table = $"{name}Byte{b}";
                ulong[] entries = TableEntries(pairs, b);
                tables.Add((table, element, entries));
                ulong mask = (ulong)entries.Length - 1;
                string index = b == 0 ? $"v & {Literals.Hex(mask, bits)}" : $"(v >> {8 * b}) & {Literals.Hex(mask, bits)}";
                terms.Add($"({work}){table}[(int)({index})]");
            }
        }
        else
        {
            terms = groups.Select(g =>
                g.Shift == 0 ? $"(v & {Literals.Hex(g.Mask, bits)})"
                : g.Shift > 0 ? $"((v & {Literals.Hex(g.Mask, bits)}) << {g.Shift})"
                : $"((v & {Literals.Hex(g.Mask, bits)}) >> {-g.Shift})").ToList();
        }

        w.Summary(summary.Replace("{how}", useTables ? "with one table lookup per source byte" : "with shifts and masks"));
        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
        using (w.Open($"public static {to.TypeName} {name}({from.TypeName} value)"))
        {
            if (terms.Count == 0)
            {
                w.Line($"return default({to.TypeName});");
            }
            else
            {
                w.Line($"{work} v = {Widen("value", from, bits)};");
                w.Line($"{work} r = {terms[0]}");
                for (int i = 1; i < terms.Count; i++)
                    w.Line($"    | {terms[i]}");
                w.Line("    ;");
                w.Line($"return unchecked(({to.TypeName})r);");
            }
        }
        w.Line();
    }

    // Entry i of the table for source byte b: the translation of the bits of i placed in that byte.
    // The table stops at the byte's highest mapped bit, which the index mask guarantees.
    private static ulong[] TableEntries(List<(ulong From, ulong To)> pairs, int b)
    {
        int highest = pairs.Where(p => Log2(p.From) / 8 == b).Max(p => Log2(p.From)) % 8;
        var entries = new ulong[1 << (highest + 1)];
        for (int i = 0; i < entries.Length; i++)
        {
            ulong bits = (ulong)i << (8 * b);
            foreach ((ulong from, ulong to) in pairs)
            {
                if ((bits & from) != 0)
                    entries[i] |= to;
            }
        }
        return entries;
    }

    private static void Table(SourceWriter w, string name, string element, ulong[] entries)
    {
        int digits = element switch { "byte" => 2, "ushort" => 4, "uint" => 8, _ => 16 };
        string suffix = element switch { "uint" => "u", "ulong" => "UL", _ => "" };
        w.Line();
        w.Line($"private static readonly {element}[] {name} =");
        w.Line("{");
        for (int i = 0; i < entries.Length; i += 8)
        {
            var row = entries.Skip(i).Take(8).Select(e => "0x" + e.ToString("X" + digits, System.Globalization.CultureInfo.InvariantCulture) + suffix);
            w.Line("    " + string.Join(", ", row) + ",");
        }
        w.Line("};");
    }

    /// <summary>Zero-extends an enum value to a 32- or 64-bit unsigned working value.</summary>
    internal static string Widen(string expression, FlagEnum type, int bits)
    {
        string work = bits == 32 ? "uint" : "ulong";
        return type.Bits == bits
            ? $"unchecked(({work}){expression})"
            : $"unchecked(({work})({Literals.Unsigned(type.Bits)}){expression})";
    }

    private static int Log2(ulong bit)
    {
        int n = 0;
        while ((bit >>= 1) != 0)
            n++;
        return n;
    }
}
