using EpollGen.HostedService.Native;

namespace EpollGen.HostedService.Sources;

/// <summary>One fd of the loop and what to do when it turns readable.</summary>
internal interface IEventSource
{
    /// <summary>The non-blocking fd the set watches.</summary>
    FdHandle Handle { get; }

    /// <summary>
    /// Reads until EAGAIN and logs what was read: the loop registers edge-triggered, so an edge
    /// left half-read would not be reported again.
    /// </summary>
    void Drain();
}
