using System.Collections.Generic;
using System.Linq;
using EpollGen.Generators.Common;

namespace EpollGen.Generators.FlagMaps;

/// <summary>
/// Writes C-spelling formatting and parsing for one enum: <c>EPOLLIN|EPOLLET|0x4000000</c>.
/// Format names each set bit that a single-bit member names (the first declared, for aliases), in
/// ascending bit order, then the remaining bits as one hex number; zero is <c>0</c>. Parse accepts
/// any member name, decimal and <c>0x</c> hex numbers, joined by <c>|</c> with optional blanks, so
/// Parse(Format(v)) == v for every value of the enum's width.
/// </summary>
internal static class FlagFormatEmitter
{
    public static void Emit(SourceWriter w, FlagEnum type)
    {
        List<FlagMember> single = SingleBitNames(type);
        ulong named = single.Aggregate(0UL, (m, f) => m | f.Value);
        int maxLength = single.Sum(f => f.Name.Length + 1) + 2 + type.Bits / 4;

        w.Summary($"Formats {type.Name} in C spelling, for example <c>{Example(single)}</c>.");
        using (w.Open($"public static string Format({type.TypeName} value)"))
        {
            w.Line($"global::System.Span<char> buffer = stackalloc char[{Literals.Int(maxLength)}];");
            w.Line("TryFormat(value, buffer, out int written);");
            w.Line("return buffer.Slice(0, written).ToString();");
        }
        w.Line();

        w.Summary($"Formats {type.Name} in C spelling into <paramref name=\"destination\"/>.\nReturns false, with <paramref name=\"charsWritten\"/> 0, when it does not fit.");
        using (w.Open($"public static bool TryFormat({type.TypeName} value, global::System.Span<char> destination, out int charsWritten)"))
        {
            w.Line($"ulong v = {FlagMapEmitter.Widen("value", type, 64)};");
            w.Line("int n = 0;");
            w.Line("bool ok = true;");
            w.Line("if (v == 0UL)");
            w.Line("    ok = AppendPart(destination, ref n, \"0\");");
            foreach (FlagMember member in single)
            {
                w.Line($"if ((v & {Literals.Hex(member.Value, 64)}) != 0UL)");
                w.Line($"    ok &= AppendPart(destination, ref n, {Literals.String(member.Name)});");
            }
            w.Line($"ulong rest = v & ~{Literals.Hex(named, 64)};");
            w.Line("if (rest != 0UL)");
            w.Line("    ok &= AppendHex(destination, ref n, rest);");
            w.Line("charsWritten = ok ? n : 0;");
            w.Line("return ok;");
        }
        w.Line();

        w.Summary($"Parses C spelling (member names, decimal or <c>0x</c> hex, joined by <c>|</c>) into {type.Name}.\nReturns false for an empty part, an unknown name or a value wider than the enum.");
        using (w.Open($"public static bool TryParse(global::System.ReadOnlySpan<char> text, out {type.TypeName} value)"))
        {
            w.Line("ulong result = 0UL;");
            w.Line($"value = default({type.TypeName});");
            using (w.Open("while (true)"))
            {
                w.Line("int bar = global::System.MemoryExtensions.IndexOf(text, '|');");
                w.Line("global::System.ReadOnlySpan<char> part = global::System.MemoryExtensions.Trim(bar < 0 ? text : text.Slice(0, bar));");
                using (w.Open("if (!TryParseNumber(part, out ulong bits))"))
                {
                    string keyword = "if";
                    foreach (FlagMember member in type.Members)
                    {
                        w.Line($"{keyword} (global::System.MemoryExtensions.SequenceEqual(part, {Literals.String(member.Name)}))");
                        w.Line($"    bits = {Literals.Hex(member.Value, 64)};");
                        keyword = "else if";
                    }
                    w.Line(type.Members.Count == 0 ? "return false;" : "else");
                    if (type.Members.Count > 0)
                        w.Line("    return false;");
                }
                w.Line("result |= bits;");
                w.Line("if (bar < 0)");
                w.Line("    break;");
                w.Line("text = text.Slice(bar + 1);");
            }
            if (type.Bits < 64)
            {
                w.Line($"if ((result >> {Literals.Int(type.Bits)}) != 0UL)");
                w.Line("    return false;");
            }
            w.Line($"value = unchecked(({type.TypeName})result);");
            w.Line("return true;");
        }
        w.Line();
    }

    /// <summary>Private helpers shared by every Format/TryParse of one generated class.</summary>
    public static void EmitHelpers(SourceWriter w)
    {
        using (w.Open("private static bool AppendPart(global::System.Span<char> destination, ref int position, string part)"))
        {
            w.Line("int separator = position == 0 ? 0 : 1;");
            w.Line("if (destination.Length - position < separator + part.Length)");
            w.Line("    return false;");
            w.Line("if (separator == 1)");
            w.Line("    destination[position] = '|';");
            w.Line("global::System.MemoryExtensions.AsSpan(part).CopyTo(destination.Slice(position + separator));");
            w.Line("position += separator + part.Length;");
            w.Line("return true;");
        }
        w.Line();
        using (w.Open("private static bool AppendHex(global::System.Span<char> destination, ref int position, ulong bits)"))
        {
            w.Line("if (!AppendPart(destination, ref position, \"0x\"))");
            w.Line("    return false;");
            w.Line("if (!bits.TryFormat(destination.Slice(position), out int digits, \"x\", global::System.Globalization.CultureInfo.InvariantCulture))");
            w.Line("    return false;");
            w.Line("position += digits;");
            w.Line("return true;");
        }
        w.Line();
        using (w.Open("private static bool TryParseNumber(global::System.ReadOnlySpan<char> part, out ulong bits)"))
        {
            w.Line("bits = 0UL;");
            w.Line("if (part.Length > 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X'))");
            w.Line("    return ulong.TryParse(part.Slice(2), global::System.Globalization.NumberStyles.AllowHexSpecifier, global::System.Globalization.CultureInfo.InvariantCulture, out bits);");
            w.Line("return part.Length > 0 && part[0] >= '0' && part[0] <= '9'");
            w.Line("    && ulong.TryParse(part, global::System.Globalization.NumberStyles.None, global::System.Globalization.CultureInfo.InvariantCulture, out bits);");
        }
    }

    // For each bit, the first declared member that is exactly that bit.
    private static List<FlagMember> SingleBitNames(FlagEnum type)
    {
        var byBit = new SortedDictionary<ulong, FlagMember>();
        foreach (FlagMember member in type.Members)
        {
            bool singleBit = member.Value != 0 && (member.Value & (member.Value - 1)) == 0;
            if (singleBit && !byBit.ContainsKey(member.Value))
                byBit.Add(member.Value, member);
        }
        return byBit.Values.ToList();
    }

    private static string Example(List<FlagMember> single) =>
        single.Count == 0 ? "0x1" : string.Join("|", single.Take(2).Select(m => m.Name));
}
