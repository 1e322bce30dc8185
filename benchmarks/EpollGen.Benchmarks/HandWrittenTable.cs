using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary>
/// The lookup-table form: every mapped bit on either side lies in the low 16 bits, so two
/// 256-entry tables, one per byte, translate a whole mask with two loads and an OR. Reads skip the
/// bounds check because a byte index cannot leave a 256-entry table.
/// </summary>
internal static class HandWrittenTable
{
    private static readonly ushort[] EpollLow = Build(fromEpoll: true, shift: 0);
    private static readonly ushort[] EpollHigh = Build(fromEpoll: true, shift: 8);
    private static readonly ushort[] TapLow = Build(fromEpoll: false, shift: 0);
    private static readonly ushort[] TapHigh = Build(fromEpoll: false, shift: 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TapFilters ToTarget(EpollEvents ev)
    {
        uint v = (uint)ev;
        return (TapFilters)(uint)(Entry(EpollLow, (byte)v) | Entry(EpollHigh, (byte)(v >> 8)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static EpollEvents ToSource(TapFilters filt)
    {
        uint v = (uint)filt;
        return (EpollEvents)(uint)(Entry(TapLow, (byte)v) | Entry(TapHigh, (byte)(v >> 8)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Entry(ushort[] table, byte index) =>
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(table), index);

    private static ushort[] Build(bool fromEpoll, int shift)
    {
        var table = new ushort[256];
        foreach ((uint epoll, uint tap) in HandWrittenLoop.Pairs)
        {
            (uint from, uint to) = fromEpoll ? (epoll, tap) : (tap, epoll);
            // The two-byte split is only right while both sides stay below bit 16.
            if (from > 0xFFFF || to > 0xFFFF)
                throw new InvalidOperationException($"pair 0x{epoll:x}/0x{tap:x} does not fit a 16-bit table");
            for (int i = 0; i < 256; i++)
            {
                if (((uint)i << shift & from) != 0)
                    table[i] |= (ushort)to;
            }
        }
        return table;
    }
}
