using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using Xunit;

namespace EpollGen.Runtime.Tests.NativeStructs;

/// <summary>ReadNative/WriteNative against native arrays laid out as the kernel lays them out.</summary>
public unsafe class NativeArrayTests
{
    private const int Count = 3;

    [Fact]
    public void EpollEvent_RoundTripsThroughNativeArray()
    {
        byte* buffer = Allocate(EpollEvent.NativeSize);
        try
        {
            for (int i = 0; i < Count; i++)
                EpollEvent.WriteNative(buffer, i, new EpollEvent { events = 0xA0u + (uint)i, data = 0x1122334455667788UL + (ulong)i });

            for (int i = 0; i < Count; i++)
            {
                EpollEvent read = EpollEvent.ReadNative(buffer, i);
                Assert.Equal(0xA0u + (uint)i, read.events);
                Assert.Equal(0x1122334455667788UL + (ulong)i, read.data);
            }
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    [Fact]
    public void EpollEvent_BytesLandAtNativeOffsets()
    {
        byte* buffer = Allocate(EpollEvent.NativeSize);
        try
        {
            for (int i = 0; i < Count; i++)
                EpollEvent.WriteNative(buffer, i, new EpollEvent { events = (uint)EpollEvents.EPOLLIN + (uint)i, data = 0x1122334455667788UL });

            for (int i = 0; i < Count; i++)
            {
                byte* element = buffer + (i * EpollEvent.NativeSize);
                Assert.Equal((uint)EpollEvents.EPOLLIN + (uint)i, Unsafe.ReadUnaligned<uint>(element + EpollEvent.NativeOffsets.events));
                Assert.Equal(0x1122334455667788UL, Unsafe.ReadUnaligned<ulong>(element + EpollEvent.NativeOffsets.data));
                // Little-endian: the low byte of data comes first, whatever the packing.
                Assert.Equal(0x88, element[EpollEvent.NativeOffsets.data]);
            }
            Assert.Equal(0xCC, buffer[Count * EpollEvent.NativeSize]);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    [Fact]
    public void EpollEvent_OverlaysReadTheDataUnion()
    {
        byte* buffer = Allocate(EpollEvent.NativeSize);
        try
        {
            Unsafe.WriteUnaligned(buffer + EpollEvent.NativeSize + EpollEvent.NativeOffsets.data, 0xFFFFFFFF_00000007UL);
            EpollEvent read = EpollEvent.ReadNative(buffer, 1);
            Assert.Equal(7, read.fd);
            Assert.Equal(7u, read.u32);
            Assert.Equal(0xFFFFFFFF_00000007UL, (ulong)read.ptr);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    [Fact]
    public void EventMsg_RoundTripsThroughNativeArray()
    {
        byte* buffer = Allocate(EventMsg.NativeSize);
        try
        {
            for (int i = 0; i < Count; i++)
            {
                var message = new EventMsg { ev_type = (ushort)(10 + i), ev_arg2 = (uint)TapFilters.FDTAP_FILT_READABLE << i, ev_arg3 = (void*)(nint)(0x1000 + i), ev_arg4 = ulong.MaxValue - (ulong)i };
                EventMsg.WriteNative(buffer, i, message);
            }

            for (int i = 0; i < Count; i++)
            {
                EventMsg read = EventMsg.ReadNative(buffer, i);
                Assert.Equal((ushort)(10 + i), read.ev_type);
                Assert.Equal((uint)TapFilters.FDTAP_FILT_READABLE << i, Unsafe.ReadUnaligned<uint>(buffer + (i * EventMsg.NativeSize) + EventMsg.NativeOffsets.ev_arg2));
                Assert.Equal((nint)(0x1000 + i), (nint)read.ev_arg3);
                Assert.Equal(ulong.MaxValue - (ulong)i, Unsafe.ReadUnaligned<ulong>(buffer + (i * EventMsg.NativeSize) + EventMsg.NativeOffsets.ev_arg4));
            }
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    // One spare byte past the array, and 0xCC everywhere, so a write past the stride shows.
    private static byte* Allocate(int stride)
    {
        nuint length = (nuint)((Count * stride) + 1);
        byte* buffer = (byte*)NativeMemory.Alloc(length);
        new Span<byte>(buffer, (int)length).Fill(0xCC);
        return buffer;
    }
}
