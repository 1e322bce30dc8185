using System;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen;

/// <summary>Where a wait writes its events: a managed span or a native epoll_event array.</summary>
internal interface IEventSink
{
    /// <summary>
    /// Writes event <paramref name="index"/>; false when its memory cannot be written, as the
    /// kernel's copy to user space fails. The wait then stops and keeps that event ready.
    /// </summary>
    bool Write(int index, uint events, ulong data);

    /// <summary>Whether a write failed: a wait that reported nothing fails with EFAULT.</summary>
    bool Faulted { get; }
}

internal readonly ref struct SpanSink(Span<EpollEvent> events) : IEventSink
{
    private readonly Span<EpollEvent> _events = events;

    public bool Faulted => false;

    public bool Write(int index, uint events, ulong data)
    {
        _events[index] = new EpollEvent { events = events, data = data };
        return true;
    }
}

/// <summary>
/// Writes events into a caller's native <c>struct epoll_event</c> array, in the kernel's layout.
/// The caller's pointer is not trusted: each page an event lands on is first probed by a system
/// call that writes there (getresuid), so read-only or unmapped memory gives EFAULT, as the
/// kernel's copy-out does, instead of a crash. One probe per page, only for waits that report.
/// </summary>
internal unsafe ref struct NativeSink(byte* buffer) : IEventSink
{
    private static readonly nuint PageMask = ~(nuint)4095;
    private readonly byte* _buffer = buffer;
    private nuint _probedPage = nuint.MaxValue;

    public bool Faulted { get; private set; }

    public bool Write(int index, uint events, ulong data)
    {
        byte* slot = _buffer + (nint)index * EpollEvent.NativeSize;
        if (!Probe(slot) || !Probe(slot + EpollEvent.NativeSize - 1))
        {
            Faulted = true;
            return false;
        }
        EpollEvent ev = default;
        ev.events = events;
        ev.data = data;
        EpollEvent.WriteNative(_buffer, index, ev);
        return true;
    }

    // Pages are probed in the order events fill them, so only a page change costs a system call;
    // none does in the caller's own live stack frames (C code's local array), which are mapped and
    // writable. getresuid writes four bytes at the address, which the event overwrites at once.
    private bool Probe(byte* address)
    {
        nuint page = (nuint)address & PageMask;
        if (page == _probedPage)
            return true;
        if (ThreadStack.Contains(address, 1))
            return true;
        uint* target = (uint*)address;
        if (LibC.getresuid(target, target, target) != 0)
            return false;
        _probedPage = page;
        return true;
    }
}
