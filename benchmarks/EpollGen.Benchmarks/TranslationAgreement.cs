using System;
using System.Collections.Generic;
using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary>
/// The correctness guard: a benchmark of a wrong translation is worthless, so before anything is
/// timed all four forms must give the same answer on every input, in both directions.
/// </summary>
internal static class TranslationAgreement
{
    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first input the forms disagree on.</summary>
    public static void Verify()
    {
        foreach (uint v in Inputs())
        {
            var ev = (EpollEvents)v;
            TapFilters tap = HandWrittenIf.ToTarget(ev);
            Agree(tap, HandWrittenLoop.ToTarget(ev), "loop", ev);
            Agree(tap, HandWrittenTable.ToTarget(ev), "table", ev);
            Agree(tap, EpollTapMap.ToTarget(ev), "generated", ev);

            var filt = (TapFilters)v;
            EpollEvents epoll = HandWrittenIf.ToSource(filt);
            Agree(epoll, HandWrittenLoop.ToSource(filt), "loop", filt);
            Agree(epoll, HandWrittenTable.ToSource(filt), "table", filt);
            Agree(epoll, EpollTapMap.ToSource(filt), "generated", filt);
        }
    }

    private static void Agree(TapFilters expected, TapFilters actual, string form, EpollEvents input)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException(
                $"ToTarget({EpollTapMap.Format(input)}): the if-form gives {EpollTapMap.Format(expected)}, the {form} form {EpollTapMap.Format(actual)}");
        }
    }

    private static void Agree(EpollEvents expected, EpollEvents actual, string form, TapFilters input)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException(
                $"ToSource({EpollTapMap.Format(input)}): the if-form gives {EpollTapMap.Format(expected)}, the {form} form {EpollTapMap.Format(actual)}");
        }
    }

    // Every combination of the low 16 bits (where all mapped bits live) under every pattern of the
    // top four (the epoll modes), then each stray high bit, then the benchmark inputs themselves.
    private static IEnumerable<uint> Inputs()
    {
        for (uint high = 0; high < 16; high++)
        {
            for (uint low = 0; low <= 0xFFFF; low++)
                yield return high << 28 | low;
        }
        for (int bit = 16; bit < 32; bit++)
            yield return 1u << bit | 0xFFFF;
        foreach (EpollEvents ev in RealisticMasks.Epoll())
            yield return (uint)ev;
        foreach (TapFilters filt in RealisticMasks.Taps())
            yield return (uint)filt;
    }
}
