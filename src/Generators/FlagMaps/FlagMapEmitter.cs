using System.Collections.Generic;
using System.Linq;
using EpollGen.Generators.Common;

namespace EpollGen.Generators.FlagMaps;

/// <summary>Writes the translation, masks, formatting and parsing of one flag map.</summary>
internal static class FlagMapEmitter
{
    public static string Emit(FlagMapSpec spec)
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

            Translate(w, "ToTarget", source, target, spec.Pairs.Select(p => (p.Source, p.Destination)), bits,
                $"Translates {source.Name} to {target.Name} with shifts and masks, no branches.\nBits outside <see cref=\"SourceMapped\"/> (modes, unsupported and unknown bits) are dropped.");
            Translate(w, "ToSource", target, source, spec.Pairs.Select(p => (p.Destination, p.Source)), bits,
                $"Translates {target.Name} back to {source.Name} with shifts and masks, no branches.\nBits outside <see cref=\"TargetMapped\"/> are dropped.");

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
        }
        return w.ToString();
    }

    private static void Mask(SourceWriter w, FlagEnum type, string name, ulong value, string summary)
    {
        w.Summary(summary + "\n<c>" + FlagMapReader.Spell(type, value) + "</c>");
        w.Line($"public const {type.TypeName} {name} = {Literals.EnumConstant(type.TypeName, value, type.Bits)};").Line();
    }

    // Groups the pairs by how far each bit moves: every group is one AND and at most one shift.
    private static void Translate(SourceWriter w, string name, FlagEnum from, FlagEnum to, IEnumerable<(ulong From, ulong To)> pairs, int bits, string summary)
    {
        var groups = pairs
            .GroupBy(p => Log2(p.To) - Log2(p.From))
            .OrderBy(g => g.Key)
            .Select(g => (Shift: g.Key, Mask: g.Aggregate(0UL, (m, p) => m | p.From)))
            .ToList();
        string work = bits == 32 ? "uint" : "ulong";
        var terms = groups.Select(g =>
            g.Shift == 0 ? $"(v & {Literals.Hex(g.Mask, bits)})"
            : g.Shift > 0 ? $"((v & {Literals.Hex(g.Mask, bits)}) << {g.Shift})"
            : $"((v & {Literals.Hex(g.Mask, bits)}) >> {-g.Shift})").ToList();

        w.Summary(summary);
        w.Line("[global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]");
        using (w.Open($"public static {to.TypeName} {name}({from.TypeName} value)"))
        {
            if (terms.Count == 0)
            {
                w.Line($"return default({to.TypeName});");
                return;
            }
            w.Line($"{work} v = {Widen("value", from, bits)};");
            w.Line($"{work} r = {terms[0]}");
            for (int i = 1; i < terms.Count; i++)
                w.Line($"    | {terms[i]}");
            w.Line("    ;");
            w.Line($"return unchecked(({to.TypeName})r);");
        }
        w.Line();
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
