using System.Collections.Generic;

namespace EpollGen.Runtime.Tests.FlagMaps;

/// <summary>Bit-set helpers the flag-map tests enumerate with.</summary>
internal static class Bits
{
    /// <summary>Every subset of <paramref name="mask"/>, the empty one first and <paramref name="mask"/> last.</summary>
    public static IEnumerable<uint> Subsets(uint mask)
    {
        // (s - mask) & mask steps to the next subset in counting order over mask's bits, and wraps to 0.
        uint subset = 0;
        do
        {
            yield return subset;
            subset = (subset - mask) & mask;
        }
        while (subset != 0);
    }

    /// <summary>The single bits of <paramref name="mask"/>, lowest first.</summary>
    public static IEnumerable<uint> Each(uint mask)
    {
        for (uint rest = mask; rest != 0; rest &= rest - 1)
            yield return rest & (~rest + 1);
    }
}
