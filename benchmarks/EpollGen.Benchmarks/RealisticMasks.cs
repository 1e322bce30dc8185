using System;
using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary>
/// The inputs every translation benchmark walks: a fixed, seeded mix of the interest sets servers
/// register and the readiness the kernel reports, with some arbitrary combinations so that a
/// branchy form cannot learn the whole sequence.
/// </summary>
internal static class RealisticMasks
{
    public const int Count = 1024;

    private const int Seed = 20240601;

    private static readonly EpollEvents[] Common =
    [
        // Interest sets, as registered with EPOLL_CTL_ADD/MOD.
        EpollEvents.EPOLLIN,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLET,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLOUT | EpollEvents.EPOLLET,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLET,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLOUT | EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLET,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT,
        EpollEvents.EPOLLOUT | EpollEvents.EPOLLONESHOT,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLEXCLUSIVE,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLPRI,
        EpollEvents.EPOLLOUT,
        // Readiness, as reported by epoll_wait.
        EpollEvents.EPOLLIN | EpollEvents.EPOLLRDNORM,
        EpollEvents.EPOLLOUT | EpollEvents.EPOLLWRNORM,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLOUT | EpollEvents.EPOLLRDNORM | EpollEvents.EPOLLWRNORM,
        EpollEvents.EPOLLIN | EpollEvents.EPOLLHUP | EpollEvents.EPOLLRDHUP,
        EpollEvents.EPOLLERR | EpollEvents.EPOLLHUP,
        EpollEvents.EPOLLPRI | EpollEvents.EPOLLRDBAND,
    ];

    private static readonly TapFilters FileChange =
        TapFilters.FDTAP_FILT_WRITTEN | TapFilters.FDTAP_FILT_DELETED | TapFilters.FDTAP_FILT_RENAME
        | TapFilters.FDTAP_FILT_TRUNCATE | TapFilters.FDTAP_FILT_ATTRIB;

    /// <summary>Epoll masks: three in four from <see cref="Common"/>, the rest any mix of known bits.</summary>
    public static EpollEvents[] Epoll()
    {
        var random = new Random(Seed);
        var masks = new EpollEvents[Count];
        for (int i = 0; i < masks.Length; i++)
        {
            masks[i] = random.Next(4) != 0
                ? Common[random.Next(Common.Length)]
                : (EpollEvents)RandomSubset(random, (uint)EpollTapMap.SourceKnown);
        }
        return masks;
    }

    /// <summary>
    /// Tap filters: the taps of <see cref="Epoll"/>'s masks, with file-change bits (which have no
    /// epoll bit) mixed into one in ten.
    /// </summary>
    public static TapFilters[] Taps()
    {
        var random = new Random(Seed + 1);
        EpollEvents[] epoll = Epoll();
        var taps = new TapFilters[epoll.Length];
        for (int i = 0; i < taps.Length; i++)
        {
            taps[i] = HandWrittenIf.ToTarget(epoll[i]);
            if (random.Next(10) == 0)
                taps[i] |= (TapFilters)RandomSubset(random, (uint)FileChange);
        }
        return taps;
    }

    private static uint RandomSubset(Random random, uint known)
    {
        uint mask = 0;
        for (uint rest = known; rest != 0; rest &= rest - 1)
        {
            uint bit = rest & (0u - rest);
            if (random.Next(10) < 3)
                mask |= bit;
        }
        return mask;
    }
}
