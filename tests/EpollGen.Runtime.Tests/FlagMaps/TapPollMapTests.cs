using System;
using EpollGen.Interop;
using Xunit;
using static EpollGen.Interop.PollEvents;
using static EpollGen.Interop.TapFilters;

namespace EpollGen.Runtime.Tests.FlagMaps;

public class TapPollMapTests
{
    // What the kernel backends wait for per tap, written out by hand.
    public static readonly TheoryData<TapFilters, PollEvents> Pairs = new()
    {
        { FDTAP_FILT_READABLE, POLLIN },
        { FDTAP_FILT_WRITABLE, POLLOUT },
        { FDTAP_FILT_ERROR, POLLERR },
        { FDTAP_FILT_PRIORITY, POLLPRI },
        { FDTAP_FILT_HANGUP, POLLHUP },
        { FDTAP_FILT_RDHUP, POLLRDHUP },
        { FDTAP_FILT_RDNORM, POLLRDNORM },
        { FDTAP_FILT_RDBAND, POLLRDBAND },
        { FDTAP_FILT_WRNORM, POLLWRNORM },
        { FDTAP_FILT_WRBAND, POLLWRBAND },
    };

    public static readonly TheoryData<TapFilters> FileChangeTaps = new()
    {
        FDTAP_FILT_WRITTEN, FDTAP_FILT_DELETED, FDTAP_FILT_RENAME, FDTAP_FILT_TRUNCATE, FDTAP_FILT_ATTRIB,
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Pair_MapsBothWays(TapFilters tap, PollEvents poll)
    {
        Assert.Equal(poll, TapPollMap.ToTarget(tap));
        Assert.Equal(tap, TapPollMap.ToSource(poll));
    }

    [Fact]
    public void Masks_AreTheSpecsValues()
    {
        Assert.Equal((TapFilters)0x7F13u, TapPollMap.SourceMapped);
        Assert.Equal(POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP, TapPollMap.TargetMapped);
        Assert.Equal(TapFilters.None, TapPollMap.SourceModes);
        Assert.Equal(FDTAP_FILT_ERROR | FDTAP_FILT_HANGUP, TapPollMap.SourceAlwaysReported);
        Assert.Equal(FDTAP_FILT_WRITTEN | FDTAP_FILT_DELETED | FDTAP_FILT_RENAME | FDTAP_FILT_TRUNCATE | FDTAP_FILT_ATTRIB, TapPollMap.SourceUnsupported);
        Assert.Equal((TapFilters)0x7FFFu, TapPollMap.SourceKnown);
        Assert.Equal((PollEvents)0x27FF, TapPollMap.TargetKnown);
    }

    [Fact]
    public void EveryMappedSubset_TranslatesByTheTableAndBack()
    {
        int covered = 0;
        foreach (uint subset in Bits.Subsets((uint)TapPollMap.SourceMapped))
        {
            var taps = (TapFilters)subset;
            PollEvents poll = TapPollMap.ToTarget(taps);
            Assert.Equal(ExpectedPoll(taps), poll);
            Assert.Equal(taps, TapPollMap.ToSource(poll));
            covered++;
        }
        Assert.Equal(1 << 10, covered);
    }

    [Fact]
    public void EveryPollValue_TranslatesOnlyItsMappedBits()
    {
        // PollEvents is 16 bits wide, so every value is checked, unknown and unmapped bits included.
        for (int value = 0; value <= ushort.MaxValue; value++)
        {
            var poll = (PollEvents)value;
            PollEvents mapped = poll & (POLLIN | POLLPRI | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP);
            Assert.Equal(mapped, TapPollMap.ToTarget(TapPollMap.ToSource(poll)));
        }
    }

    [Theory]
    [InlineData(FDTAP_FILT_WRITTEN | FDTAP_FILT_DELETED | FDTAP_FILT_RENAME | FDTAP_FILT_TRUNCATE | FDTAP_FILT_ATTRIB)]
    [InlineData((TapFilters)0x8000u)]
    [InlineData((TapFilters)0xFFFF8000u)]
    public void UntranslatableBits_AreDropped(TapFilters extra)
    {
        foreach (uint subset in Bits.Subsets((uint)TapPollMap.SourceMapped))
        {
            var taps = (TapFilters)subset;
            Assert.Equal(TapPollMap.ToTarget(taps), TapPollMap.ToTarget(taps | extra));
        }
    }

    [Fact]
    public void PollOnlyBits_HaveNoTap()
    {
        Assert.Equal(TapFilters.None, TapPollMap.ToSource(POLLNVAL | POLLMSG | (PollEvents)0x8000));
    }

    [Fact]
    public void RandomValues_TranslateOnlyTheirMappedBits()
    {
        var random = new Random(20240611);
        for (int i = 0; i < 4096; i++)
        {
            var taps = (TapFilters)(uint)random.NextInt64(0, 1L << 32);
            Assert.Equal(ExpectedPoll(taps), TapPollMap.ToTarget(taps));
        }
    }

    [Theory]
    [MemberData(nameof(FileChangeTaps))]
    public void FileChangeTap_HasUnsupportedReason(TapFilters tap)
    {
        Assert.False(string.IsNullOrWhiteSpace(TapPollMap.GetUnsupportedReason(tap)));
        Assert.Equal(PollEvents.None, TapPollMap.ToTarget(tap));
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void MappedTap_HasNoUnsupportedReason(TapFilters tap, PollEvents poll)
    {
        Assert.NotEqual(PollEvents.None, poll);
        Assert.Null(TapPollMap.GetUnsupportedReason(tap));
    }

    private static PollEvents ExpectedPoll(TapFilters taps)
    {
        PollEvents poll = PollEvents.None;
        foreach (object[] pair in Pairs)
        {
            if ((taps & (TapFilters)pair[0]) != 0)
                poll |= (PollEvents)pair[1];
        }
        return poll;
    }
}
