using System;
using EpollGen.Events;
using EpollGen.Interop;

namespace EpollGen.Taps;

/// <summary>One tap of a queue on an fd: the id it posts, the conditions it reports and how.</summary>
internal readonly record struct Tap(CeqId Id, TapFilters Filter, TapModes Modes = TapModes.None)
{
    private const TapFilters AlwaysReported = TapFilters.FDTAP_FILT_ERROR | TapFilters.FDTAP_FILT_HANGUP;

    /// <summary>The conditions any of <paramref name="taps"/> asks for: what the kernel must watch.</summary>
    public static TapFilters Union(Tap[] taps)
    {
        TapFilters union = 0;
        foreach (Tap tap in taps)
            union |= tap.Filter;
        return union;
    }

    /// <summary>
    /// Posts to each tap the part of <paramref name="ready"/> it asked for, plus error and hang-up.
    /// Returns whether any post was accepted.
    /// </summary>
    public static bool Post(CoalescingEventQueue mailbox, Tap[] taps, TapFilters ready)
    {
        bool posted = false;
        foreach (Tap tap in taps)
            posted |= tap.Post(mailbox, ready);
        return posted;
    }

    /// <summary>Posts to this tap the part of <paramref name="ready"/> it asked for, plus error and hang-up.</summary>
    public bool Post(CoalescingEventQueue mailbox, TapFilters ready)
    {
        TapFilters bits = ready & (Filter | AlwaysReported);
        return bits != 0 && mailbox.Post(Id, (uint)bits);
    }

    public static int IndexOf(Tap[] taps, CeqId id)
    {
        for (int i = 0; i < taps.Length; i++)
        {
            if (taps[i].Id == id)
                return i;
        }
        return -1;
    }

    public static Tap[] With(Tap[] taps, Tap tap) => [.. taps, tap];

    public static Tap[] Without(Tap[] taps, int index) => [.. taps.AsSpan(0, index), .. taps.AsSpan(index + 1)];

    public static Tap[] Replace(Tap[] taps, int index, Tap tap)
    {
        Tap[] copy = [.. taps];
        copy[index] = tap;
        return copy;
    }
}
