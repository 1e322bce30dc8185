using System.Runtime.CompilerServices;
using EpollGen.Testing;
using Xunit;

namespace EpollGen.IntegrationTests.Packed;

public class WireHeaderTests
{
    // Written by hand, not taken from the generator, under its own tag.
    private const string HandWritten = """
        struct wire_header_by_hand {
            uint8_t kind;
            uint32_t length;
            uint16_t port;
            uint64_t stamp;
            uint8_t flags[2];
            int16_t tail;
            unsigned char payload[];
        } __attribute__((packed));
        """;

    [Fact]
    public void Layout_MatchesHandWrittenPackedDeclaration()
    {
        GeneratedLayout.Primary(typeof(WireHeader)).AssertGccAgrees(HandWritten, "wire_header_by_hand");
    }

    [Fact]
    public void Layout_HasNoPadding()
    {
        Assert.Equal(19, WireHeader.Size);
        Assert.Equal(new[] { 0, 1, 5, 7, 15, 17, 19 }, new[]
        {
            WireHeader.Offsets.kind, WireHeader.Offsets.length, WireHeader.Offsets.port, WireHeader.Offsets.stamp,
            WireHeader.Offsets.flags, WireHeader.Offsets.tail, WireHeader.Offsets.payload,
        });
        Assert.EndsWith("} __attribute__((packed));", WireHeader.CDeclaration);
        WireHeader.CheckLayout();
    }

    [Fact]
    public unsafe void Packets_RoundTripWithPayloadAfterTheHeader()
    {
        byte* packet = stackalloc byte[WireHeader.NativeSize + 3 + 1];
        var header = new WireHeader { kind = 7, length = 3, port = 0x1F90, stamp = 0x0102030405060708UL, tail = -2 };
        header.flags[1] = 0xAB;

        // Offset 1: the header is written unaligned on purpose, as it would be inside a stream.
        WireHeader.WriteNative(packet + 1, 0, header);
        byte* payload = WireHeader.payload(packet + 1);
        payload[0] = (byte)'a';
        payload[1] = (byte)'b';
        payload[2] = (byte)'c';

        Assert.Equal((nint)(packet + 1 + 19), (nint)payload);
        Assert.Equal(0x0102030405060708UL, Unsafe.ReadUnaligned<ulong>(packet + 1 + WireHeader.Offsets.stamp));
        WireHeader read = WireHeader.ReadNative(packet + 1);
        Assert.Equal((7, 3u, (ushort)0x1F90, 0x0102030405060708UL, (byte)0xAB, (short)-2), (read.kind, read.length, read.port, read.stamp, read.flags[1], read.tail));
        Assert.Equal((byte)'a', packet[1 + WireHeader.Size]);
    }
}
