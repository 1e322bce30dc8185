using System;
using EpollGen.Interop;

namespace EpollGen;

/// <summary>Where a wait writes its events: a managed span or a native epoll_event array.</summary>
internal interface IEventSink
{
    void Write(int index, uint events, ulong data);
}

internal readonly ref struct SpanSink(Span<EpollEvent> events) : IEventSink
{
    private readonly Span<EpollEvent> _events = events;

    public void Write(int index, uint events, ulong data) => _events[index] = new EpollEvent { events = events, data = data };
}

/// <summary>Writes events into a native <c>struct epoll_event</c> array, in the kernel's layout.</summary>
internal readonly unsafe ref struct NativeSink(byte* buffer) : IEventSink
{
    public void Write(int index, uint events, ulong data)
    {
        EpollEvent ev = default;
        ev.events = events;
        ev.data = data;
        EpollEvent.WriteNative(buffer, index, ev);
    }
}
