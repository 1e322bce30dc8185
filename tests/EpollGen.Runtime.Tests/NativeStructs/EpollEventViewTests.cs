using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using Xunit;
using static EpollGen.Interop.EpollEvents;

namespace EpollGen.Runtime.Tests.NativeStructs;

/// <summary>EpollEvent.Events is a typed view of the C field events: same bits, no storage of its own.</summary>
public unsafe class EpollEventViewTests
{
    [Theory]
    [InlineData(0u)]
    [InlineData(0x001u)]
    [InlineData(0x2019u)]
    [InlineData(0x8000_0001u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Events_ReadsTheBitsOfTheField(uint bits)
    {
        var ev = new EpollEvent { events = bits, data = 0x1122334455667788UL };

        Assert.Equal((EpollEvents)bits, ev.Events);
    }

    [Fact]
    public void Events_WritesTheField_AndLeavesDataAlone()
    {
        var ev = new EpollEvent { events = 0xFFFF_FFFFu, data = 0x1122334455667788UL };

        ev.Events = EPOLLIN | EPOLLRDHUP | EPOLLET;

        Assert.Equal((uint)(EPOLLIN | EPOLLRDHUP | EPOLLET), ev.events);
        Assert.Equal(0x1122334455667788UL, ev.data);
        ev.Events |= EPOLLOUT;
        Assert.Equal(0x8000_2005u, ev.events);
    }

    [Fact]
    public void Events_RoundTripsThroughANativeArray()
    {
        byte* buffer = stackalloc byte[2 * EpollEvent.NativeSize];
        EpollEvent.WriteNative(buffer, 1, new EpollEvent { Events = EPOLLIN | EPOLLET, data = 7 });

        EpollEvent read = EpollEvent.ReadNative(buffer, 1);

        Assert.Equal(EPOLLIN | EPOLLET, read.Events);
        Assert.Equal((uint)(EPOLLIN | EPOLLET), Unsafe.ReadUnaligned<uint>(buffer + EpollEvent.NativeSize + EpollEvent.NativeOffsets.events));
        Assert.Equal(7UL, read.data);
    }

    [Fact]
    public void View_AddsNoStorage_AndTheStructStaysBlittable()
    {
        string[] fields = typeof(EpollEvent).GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Select(f => f.Name).Order().ToArray();

        Assert.Equal(["data", "events", "fd", "ptr", "u32"], fields);
        Assert.Equal(EpollEvent.Size, sizeof(EpollEvent));
        Assert.Equal(EpollEvent.Size, Marshal.SizeOf<EpollEvent>());
        Assert.False(RuntimeHelpers.IsReferenceOrContainsReferences<EpollEvent>());
        EpollEvent.CheckLayout();
    }
}
