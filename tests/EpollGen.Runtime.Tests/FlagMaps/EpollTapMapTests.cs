using System;
using System.Linq;
using EpollGen.Interop;
using Xunit;
using static EpollGen.Interop.EpollEvents;
using static EpollGen.Interop.TapFilters;

namespace EpollGen.Runtime.Tests.FlagMaps;

public class EpollTapMapTests
{
    // The seed's ep_events_to_taps table, written out by hand: the generated code must agree with
    // it, not with itself.
    public static readonly TheoryData<EpollEvents, TapFilters> Pairs = new()
    {
        { EPOLLIN, FDTAP_FILT_READABLE },
        { EPOLLOUT, FDTAP_FILT_WRITABLE },
        { EPOLLRDHUP, FDTAP_FILT_RDHUP },
        { EPOLLPRI, FDTAP_FILT_PRIORITY },
        { EPOLLERR, FDTAP_FILT_ERROR },
        { EPOLLHUP, FDTAP_FILT_HANGUP },
        { EPOLLRDNORM, FDTAP_FILT_RDNORM },
        { EPOLLRDBAND, FDTAP_FILT_RDBAND },
        { EPOLLWRNORM, FDTAP_FILT_WRNORM },
        { EPOLLWRBAND, FDTAP_FILT_WRBAND },
    };

    private const EpollEvents Modes = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;

    // Bits no EpollEvents member declares.
    private const EpollEvents Unknown = (EpollEvents)0x0FFFD820u;

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Pair_MapsBothWays(EpollEvents epoll, TapFilters tap)
    {
        Assert.Equal(tap, EpollTapMap.ToTarget(epoll));
        Assert.Equal(epoll, EpollTapMap.ToSource(tap));
    }

    [Fact]
    public void Masks_AreTheSeedsValues()
    {
        Assert.Equal(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | EPOLLRDHUP, EpollTapMap.SourceMapped);
        Assert.Equal((TapFilters)0x7F13u, EpollTapMap.TargetMapped);
        Assert.Equal(Modes, EpollTapMap.SourceModes);
        Assert.Equal(EPOLLERR | EPOLLHUP, EpollTapMap.SourceAlwaysReported);
        Assert.Equal(EPOLLMSG, EpollTapMap.SourceUnsupported);
        Assert.Equal((EpollEvents)0xF00027DFu, EpollTapMap.SourceKnown);
        Assert.Equal((TapFilters)0x7FFFu, EpollTapMap.TargetKnown);
    }

    [Fact]
    public void EveryMappedSubset_TranslatesByTheTableAndBack()
    {
        int covered = 0;
        foreach (uint subset in Bits.Subsets((uint)EpollTapMap.SourceMapped))
        {
            var events = (EpollEvents)subset;
            TapFilters taps = EpollTapMap.ToTarget(events);
            Assert.Equal(ExpectedTaps(events), taps);
            Assert.Equal(events, EpollTapMap.ToSource(taps));
            covered++;
        }
        Assert.Equal(1 << 10, covered);
    }

    [Fact]
    public void EveryTargetSubset_TranslatesBackAndForth()
    {
        int covered = 0;
        foreach (uint subset in Bits.Subsets((uint)EpollTapMap.TargetMapped))
        {
            var taps = (TapFilters)subset;
            Assert.Equal(taps, EpollTapMap.ToTarget(EpollTapMap.ToSource(taps)));
            covered++;
        }
        Assert.Equal(1 << 10, covered);
    }

    [Theory]
    [InlineData(EPOLLET)]
    [InlineData(EPOLLONESHOT)]
    [InlineData(EPOLLEXCLUSIVE)]
    [InlineData(EPOLLWAKEUP)]
    [InlineData(Modes)]
    [InlineData(EPOLLMSG)]
    [InlineData((EpollEvents)0x4000000u)]
    [InlineData(Unknown)]
    [InlineData(Modes | EPOLLMSG | Unknown)]
    public void UntranslatableBits_AreDropped(EpollEvents extra)
    {
        foreach (uint subset in Bits.Subsets((uint)EpollTapMap.SourceMapped))
        {
            var events = (EpollEvents)subset;
            Assert.Equal(EpollTapMap.ToTarget(events), EpollTapMap.ToTarget(events | extra));
        }
    }

    [Fact]
    public void FileChangeTaps_HaveNoEpollBit()
    {
        Assert.Equal(EpollEvents.None, EpollTapMap.ToSource(FDTAP_FILT_WRITTEN | FDTAP_FILT_DELETED | FDTAP_FILT_RENAME | FDTAP_FILT_TRUNCATE | FDTAP_FILT_ATTRIB));
        Assert.Equal(EPOLLIN, EpollTapMap.ToSource(FDTAP_FILT_READABLE | FDTAP_FILT_WRITTEN | (TapFilters)0x80000000u));
    }

    [Fact]
    public void RandomValues_TranslateOnlyTheirMappedBits()
    {
        var random = new Random(20240611);
        for (int i = 0; i < 4096; i++)
        {
            var events = (EpollEvents)(uint)random.NextInt64(0, 1L << 32);
            Assert.Equal(ExpectedTaps(events), EpollTapMap.ToTarget(events));
        }
    }

    [Fact]
    public void UnsupportedReason_ExplainsOnlyEpollMsg()
    {
        Assert.False(string.IsNullOrWhiteSpace(EpollTapMap.GetUnsupportedReason(EPOLLMSG)));
        foreach (EpollEvents mapped in Pairs.Select(p => (EpollEvents)p[0]))
            Assert.Null(EpollTapMap.GetUnsupportedReason(mapped));
        Assert.Null(EpollTapMap.GetUnsupportedReason(EPOLLET));
        Assert.Null(EpollTapMap.GetUnsupportedReason(EpollEvents.None));
    }

    private static TapFilters ExpectedTaps(EpollEvents events)
    {
        TapFilters taps = TapFilters.None;
        foreach (object[] pair in Pairs)
        {
            if ((events & (EpollEvents)pair[0]) != 0)
                taps |= (TapFilters)pair[1];
        }
        return taps;
    }
}
