using System;
using EpollGen.Interop;
using Xunit;
using static EpollGen.Interop.EpollEvents;

namespace EpollGen.Runtime.Tests.FlagMaps;

/// <summary>C-spelling Format/TryFormat/TryParse generated for the runtime's flag enums.</summary>
public class FlagFormatTests
{
    [Theory]
    [InlineData(0u, "0")]
    [InlineData((uint)EPOLLIN, "EPOLLIN")]
    [InlineData((uint)(EPOLLIN | EPOLLET), "EPOLLIN|EPOLLET")]
    [InlineData((uint)(EPOLLET | EPOLLIN | EPOLLOUT), "EPOLLIN|EPOLLOUT|EPOLLET")]
    [InlineData((uint)EPOLLIN | 0x4000000u, "EPOLLIN|0x4000000")]
    [InlineData(0x4000800u, "0x4000800")]
    [InlineData(0xFFFFFFFFu, "EPOLLIN|EPOLLPRI|EPOLLOUT|EPOLLERR|EPOLLHUP|EPOLLRDNORM|EPOLLRDBAND|EPOLLWRNORM|EPOLLWRBAND|EPOLLMSG|EPOLLRDHUP|EPOLLEXCLUSIVE|EPOLLWAKEUP|EPOLLONESHOT|EPOLLET|0xfffd820")]
    public void EpollEvents_FormatsInCSpelling(uint value, string expected)
    {
        Assert.Equal(expected, EpollTapMap.Format((EpollEvents)value));
    }

    [Theory]
    [InlineData(0u, "0")]
    [InlineData((uint)(TapFilters.FDTAP_FILT_READABLE | TapFilters.FDTAP_FILT_HANGUP), "FDTAP_FILT_READABLE|FDTAP_FILT_HANGUP")]
    [InlineData((uint)TapFilters.FDTAP_FILT_WRBAND | 0x80000000u, "FDTAP_FILT_WRBAND|0x80000000")]
    public void TapFilters_FormatsInCSpellingInBothMaps(uint value, string expected)
    {
        Assert.Equal(expected, EpollTapMap.Format((TapFilters)value));
        Assert.Equal(expected, TapPollMap.Format((TapFilters)value));
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData((int)(PollEvents.POLLIN | PollEvents.POLLRDHUP), "POLLIN|POLLRDHUP")]
    [InlineData((int)PollEvents.POLLIN | 0x8000, "POLLIN|0x8000")]
    public void PollEvents_FormatsInCSpelling(int value, string expected)
    {
        Assert.Equal(expected, TapPollMap.Format((PollEvents)value));
    }

    [Fact]
    public void EveryLow16BitValue_RoundTrips()
    {
        for (uint value = 0; value <= ushort.MaxValue; value++)
        {
            AssertRoundTrips((EpollEvents)value);
            AssertRoundTrips((TapFilters)value);
            AssertRoundTrips((PollEvents)value);
        }
    }

    [Fact]
    public void Random32BitValues_RoundTrip()
    {
        var random = new Random(7340033);
        for (int i = 0; i < 4096; i++)
        {
            uint value = (uint)random.NextInt64(0, 1L << 32);
            AssertRoundTrips((EpollEvents)value);
            AssertRoundTrips((TapFilters)value);
        }
        AssertRoundTrips((EpollEvents)uint.MaxValue);
        AssertRoundTrips((TapFilters)uint.MaxValue);
    }

    [Theory]
    [InlineData("0", 0u)]
    [InlineData("None", 0u)]
    [InlineData("EPOLLIN", (uint)EPOLLIN)]
    [InlineData("  EPOLLIN |\tEPOLLOUT  ", (uint)(EPOLLIN | EPOLLOUT))]
    [InlineData("EPOLLOUT|EPOLLIN|EPOLLIN", (uint)(EPOLLIN | EPOLLOUT))]
    [InlineData("5", (uint)(EPOLLIN | EPOLLOUT))]
    [InlineData("0x80000001", (uint)(EPOLLIN | EPOLLET))]
    [InlineData("0X10", (uint)EPOLLHUP)]
    [InlineData("EPOLLIN|0x4000000", (uint)EPOLLIN | 0x4000000u)]
    [InlineData("None|EPOLLET|1", (uint)(EPOLLIN | EPOLLET))]
    [InlineData("4294967295", uint.MaxValue)]
    public void EpollEvents_Parses(string text, uint expected)
    {
        Assert.True(EpollTapMap.TryParse(text, out EpollEvents value));
        Assert.Equal((EpollEvents)expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("|")]
    [InlineData("EPOLLIN|")]
    [InlineData("|EPOLLIN")]
    [InlineData("EPOLLIN||EPOLLOUT")]
    [InlineData("NOPE")]
    [InlineData("epollin")]
    [InlineData("EPOLLIN EPOLLOUT")]
    [InlineData("0x")]
    [InlineData("0xZ")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("0x100000000")]
    [InlineData("4294967296")]
    [InlineData("POLLIN")]
    public void EpollEvents_RejectsMalformedText(string text)
    {
        Assert.False(EpollTapMap.TryParse(text, out EpollEvents value));
        Assert.Equal(EpollEvents.None, value);
    }

    [Theory]
    [InlineData("0xFFFF", 0xFFFF)]
    [InlineData("65535", 0xFFFF)]
    [InlineData("POLLIN|POLLNVAL", (int)(PollEvents.POLLIN | PollEvents.POLLNVAL))]
    public void PollEvents_ParsesUpTo16Bits(string text, int expected)
    {
        Assert.True(TapPollMap.TryParse(text, out PollEvents value));
        Assert.Equal((PollEvents)expected, value);
    }

    [Theory]
    [InlineData("0x10000")]
    [InlineData("65536")]
    [InlineData("POLLIN|0x10000")]
    [InlineData("EPOLLIN")]
    public void PollEvents_RejectsValuesWiderThan16Bits(string text)
    {
        Assert.False(TapPollMap.TryParse(text, out PollEvents value));
        Assert.Equal(PollEvents.None, value);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData((uint)EPOLLIN)]
    [InlineData((uint)(EPOLLIN | EPOLLET))]
    [InlineData((uint)EPOLLIN | 0x4000000u)]
    [InlineData(uint.MaxValue)]
    public void TryFormat_IntoTooSmallBuffer_WritesNothing(uint value)
    {
        string text = EpollTapMap.Format((EpollEvents)value);
        Span<char> buffer = new char[text.Length];

        for (int length = 0; length < text.Length; length++)
        {
            Assert.False(EpollTapMap.TryFormat((EpollEvents)value, buffer.Slice(0, length), out int written));
            Assert.Equal(0, written);
        }
        Assert.True(EpollTapMap.TryFormat((EpollEvents)value, buffer, out int exact));
        Assert.Equal(text, buffer.Slice(0, exact).ToString());
    }

    [Fact]
    public void PollEvents_TryFormatIntoTooSmallBuffer_WritesNothing()
    {
        Span<char> buffer = stackalloc char[6];
        Assert.False(TapPollMap.TryFormat(PollEvents.POLLIN | PollEvents.POLLOUT, buffer, out int written));
        Assert.Equal(0, written);
        Assert.True(TapPollMap.TryFormat(PollEvents.POLLIN, buffer, out written));
        Assert.Equal("POLLIN", buffer.Slice(0, written).ToString());
    }

    private static void AssertRoundTrips(EpollEvents value)
    {
        string text = EpollTapMap.Format(value);
        Assert.True(EpollTapMap.TryParse(text, out EpollEvents parsed), text);
        Assert.Equal(value, parsed);
    }

    private static void AssertRoundTrips(TapFilters value)
    {
        string text = TapPollMap.Format(value);
        Assert.Equal(text, EpollTapMap.Format(value));
        Assert.True(TapPollMap.TryParse(text, out TapFilters parsed), text);
        Assert.Equal(value, parsed);
    }

    private static void AssertRoundTrips(PollEvents value)
    {
        string text = TapPollMap.Format(value);
        Assert.True(TapPollMap.TryParse(text, out PollEvents parsed), text);
        Assert.Equal(value, parsed);
    }
}
