using EpollGen.Events;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>
/// Base of the tap and event-queue test classes, each of which runs twice: once per tap backend,
/// through a sealed <c>…_Epoll</c> and <c>…_IoUring</c> subclass. The io_uring variants fail,
/// never skip, where io_uring is unusable: this machine has it, so a refusal is a bug.
/// </summary>
public abstract class BackendTests(TapBackendKind backend)
{
    /// <summary>The backend this variant tests.</summary>
    protected TapBackendKind Backend { get; } = backend;

    /// <summary>A queue on <see cref="Backend"/>, checked to really be on it.</summary>
    protected EventQueue NewQueue(EventQueueWakeMode wakeMode = EventQueueWakeMode.Exclusive, int ringSize = 1024)
    {
        var queue = new EventQueue(wakeMode, ringSize, Backend);
        Assert.Equal(Backend, queue.TapBackend);
        return queue;
    }
}
