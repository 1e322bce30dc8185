using System;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Threading;

namespace EpollGen.Native;

/// <summary>
/// A range of address space reserved once (no access, no memory behind it) and committed from the
/// start as it is needed. Addresses never move, so readers of committed memory need no lock and
/// never see a torn copy while the committed part grows.
/// </summary>
internal sealed unsafe class AddressReservation : IDisposable
{
    private readonly object _growLock = new();
    private readonly nuint _reserved;
    private byte* _start;
    private nuint _committed;
    // Owns the range: a reservation lost without Dispose is unmapped when collected.
    private readonly OwnedMapping _mapping;

    public AddressReservation(nuint bytes)
    {
        _reserved = RoundUp(bytes, (nuint)Environment.SystemPageSize);
        void* start = LibC.mmap(null, _reserved, LibC.PROT_NONE, LibC.MAP_PRIVATE | LibC.MAP_ANONYMOUS | LibC.MAP_NORESERVE, -1, 0);
        if (start == LibC.MAP_FAILED)
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"mmap of {_reserved} bytes of address space failed");
        _start = (byte*)start;
        _mapping = new OwnedMapping(start, _reserved);
    }

    /// <summary>The first byte of the range.</summary>
    public byte* Start => _start;

    /// <summary>Bytes readable and writable from <see cref="Start"/>.</summary>
    public nuint Committed => Volatile.Read(ref _committed);

    /// <summary>Bytes of address space held.</summary>
    public nuint Reserved => _reserved;

    /// <summary>
    /// Makes at least <paramref name="bytes"/> from the start readable and writable (zero-filled,
    /// backed on first touch). Returns false when that exceeds the reservation.
    /// </summary>
    public bool EnsureCommitted(nuint bytes, nuint granularity)
    {
        if (bytes <= Committed)
            return true;
        if (bytes > _reserved)
            return false;
        lock (_growLock)
        {
            nuint target = RoundUp(bytes, granularity);
            if (target > _reserved)
                target = _reserved;
            nuint committed = _committed;
            if (target <= committed)
                return true;
            if (LibC.mprotect(_start + committed, target - committed, LibC.PROT_READ | LibC.PROT_WRITE) != 0)
                throw new Win32Exception(Marshal.GetLastPInvokeError(), "mprotect of reserved address space failed");
            // Published after mprotect returns: whoever reads the new size may touch the memory.
            Volatile.Write(ref _committed, target);
            return true;
        }
    }

    public void Dispose()
    {
        byte* start = _start;
        if (start is null)
            return;
        _start = null;
        _mapping.Dispose();
    }

    private static nuint RoundUp(nuint value, nuint unit) => (value + unit - 1) / unit * unit;
}
