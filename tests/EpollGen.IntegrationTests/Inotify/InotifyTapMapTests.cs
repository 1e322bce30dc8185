using EpollGen.Interop;
using Xunit;
using static EpollGen.IntegrationTests.Inotify.InotifyMask;
using static EpollGen.Interop.TapFilters;

namespace EpollGen.IntegrationTests.Inotify;

/// <summary>The flag map this project declares, as the generator expanded it.</summary>
public class InotifyTapMapTests
{
    public static readonly TheoryData<InotifyMask, TapFilters> Pairs = new()
    {
        { IN_MODIFY, FDTAP_FILT_WRITTEN },
        { IN_DELETE_SELF, FDTAP_FILT_DELETED },
        { IN_MOVE_SELF, FDTAP_FILT_RENAME },
        { IN_ATTRIB, FDTAP_FILT_ATTRIB },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Pair_MapsBothWays(InotifyMask inotify, TapFilters tap)
    {
        Assert.Equal(tap, InotifyTapMap.ToTarget(inotify));
        Assert.Equal(inotify, InotifyTapMap.ToSource(tap));
        Assert.Null(InotifyTapMap.GetUnsupportedReason(inotify));
    }

    [Fact]
    public void Masks_FollowTheSpec()
    {
        Assert.Equal(IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF, InotifyTapMap.SourceMapped);
        Assert.Equal(FDTAP_FILT_WRITTEN | FDTAP_FILT_DELETED | FDTAP_FILT_RENAME | FDTAP_FILT_ATTRIB, InotifyTapMap.TargetMapped);
        Assert.Equal(IN_ONESHOT | IN_MASK_ADD | IN_ONLYDIR | IN_DONT_FOLLOW, InotifyTapMap.SourceModes);
        Assert.Equal(IN_ACCESS | IN_OPEN, InotifyTapMap.SourceUnsupported);
        Assert.Equal(InotifyMask.None, InotifyTapMap.SourceAlwaysReported);
    }

    [Fact]
    public void UnmappedBits_AreDropped()
    {
        InotifyMask everything = (InotifyMask)uint.MaxValue;
        Assert.Equal(FDTAP_FILT_WRITTEN | FDTAP_FILT_DELETED | FDTAP_FILT_RENAME | FDTAP_FILT_ATTRIB, InotifyTapMap.ToTarget(everything));
        Assert.Equal(TapFilters.None, InotifyTapMap.ToTarget(IN_CREATE | IN_DELETE | IN_ISDIR | IN_ONESHOT | IN_ACCESS));
        Assert.Equal(IN_MODIFY, InotifyTapMap.ToSource(FDTAP_FILT_WRITTEN | FDTAP_FILT_READABLE | FDTAP_FILT_TRUNCATE));
    }

    [Theory]
    [InlineData(IN_ACCESS)]
    [InlineData(IN_OPEN)]
    public void UnsupportedBit_HasReason(InotifyMask bit)
    {
        Assert.False(string.IsNullOrWhiteSpace(InotifyTapMap.GetUnsupportedReason(bit)));
    }

    [Theory]
    [InlineData(0u, "0")]
    [InlineData((uint)(IN_CREATE | IN_ISDIR), "IN_CREATE|IN_ISDIR")]
    [InlineData((uint)IN_DELETE | 0x1000u, "IN_DELETE|0x1000")]
    [InlineData((uint)IN_CLOSE, "IN_CLOSE_WRITE|IN_CLOSE_NOWRITE")]
    public void Format_UsesCSpellingAndRoundTrips(uint value, string expected)
    {
        Assert.Equal(expected, InotifyTapMap.Format((InotifyMask)value));
        Assert.True(InotifyTapMap.TryParse(expected, out InotifyMask parsed));
        Assert.Equal((InotifyMask)value, parsed);
    }

    [Theory]
    [InlineData("IN_CLOSE", (uint)(IN_CLOSE_WRITE | IN_CLOSE_NOWRITE))]
    [InlineData("IN_MOVE|IN_ONESHOT", 0x800000C0u)]
    [InlineData("IN_ALL_EVENTS", 0xFFFu)]
    public void Parse_AcceptsMultiBitMembers(string text, uint expected)
    {
        Assert.True(InotifyTapMap.TryParse(text, out InotifyMask value));
        Assert.Equal((InotifyMask)expected, value);
    }
}
