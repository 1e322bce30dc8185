using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace EpollGen.Tables;

/// <summary>
/// Prints one <see cref="FlagMapAttribute"/> map: each source member with its translation and role,
/// then each target member translated back. Both sides are spelled by the generated <c>Format</c>.
/// </summary>
internal static class FlagTablePrinter
{
    public static void Print(TextWriter output, Type map)
    {
        var spec = map.GetCustomAttribute<FlagMapAttribute>()!;
        Type source = spec.Source, target = spec.Target;
        output.WriteLine($"flag map {map.FullName}: {source.Name} -> {target.Name}");

        ulong modes = Bits(Generated.Value(map, "SourceModes"));
        ulong unsupported = Bits(Generated.Value(map, "SourceUnsupported"));
        ulong always = Bits(Generated.Value(map, "SourceAlwaysReported"));

        output.WriteLine($"  {source.Name} -> {target.Name} (ToTarget)");
        object[] sourceMembers = SingleBitMembers(source);
        int width = sourceMembers.Max(m => Format(map, m).Length);
        foreach (object member in sourceMembers)
        {
            ulong bit = Bits(member);
            string line = $"    {Format(map, member).PadRight(width)}  -> ";
            if ((bit & modes) != 0)
                line += $"mode: steers behaviour, has no {target.Name} bit";
            else if ((bit & unsupported) != 0)
                line += "unsupported: " + (string?)Generated.Call(map, "GetUnsupportedReason", member);
            else
                line += Format(map, Generated.Call(map, "ToTarget", member)!);
            if ((bit & always) != 0)
                line += "  (always reported)";
            output.WriteLine(line);
        }

        output.WriteLine($"  {target.Name} -> {source.Name} (ToSource)");
        object[] targetMembers = SingleBitMembers(target);
        width = targetMembers.Max(m => Format(map, m).Length);
        foreach (object member in targetMembers)
        {
            object back = Generated.Call(map, "ToSource", member)!;
            string line = $"    {Format(map, member).PadRight(width)}  -> {Format(map, back)}";
            if (Bits(back) == 0)
                line += $"  (no {source.Name} bit; dropped)";
            output.WriteLine(line);
        }
    }

    /// <summary>The enum's single-bit members in ascending value order (the order C headers use).</summary>
    private static object[] SingleBitMembers(Type type) =>
        Enum.GetValues(type).Cast<object>()
            .Where(v => ulong.IsPow2(Bits(v)))
            .OrderBy(Bits)
            .ToArray();

    private static string Format(Type map, object value) => (string)Generated.Call(map, "Format", value)!;

    private static ulong Bits(object value) => Convert.ToUInt64(value, System.Globalization.CultureInfo.InvariantCulture);
}
