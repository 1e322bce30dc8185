using System;
using System.Runtime.InteropServices;
using EpollGen.Interop;

namespace EpollGen;

/// <summary>
/// What <see cref="AsyncFd.ReadableAsync"/> or <see cref="AsyncFd.WritableAsync"/> found: the fd's
/// readiness in one direction, at one moment. Clearing through the guard clears only what that
/// moment saw: a readiness event that arrived after it is kept, so an edge is never lost between a
/// read that found EAGAIN and the clear that follows.
/// </summary>
public readonly struct AsyncFdReadyGuard
{
    private readonly AsyncFd _owner;
    private readonly uint _tick;
    private readonly AsyncFdInterest _direction;

    internal AsyncFdReadyGuard(AsyncFd owner, AsyncFdInterest direction, EpollEvents ready, uint tick)
    {
        _owner = owner;
        _direction = direction;
        Ready = ready;
        _tick = tick;
    }

    /// <summary>The epoll bits seen: EPOLLIN or EPOLLOUT, and EPOLLRDHUP, EPOLLHUP or EPOLLERR when they came.</summary>
    public EpollEvents Ready { get; }

    /// <summary>The delivery this guard saw: it counts up by one per delivery.</summary>
    internal uint Tick => _tick;

    /// <summary>The fd this guard is for.</summary>
    public AsyncFd AsyncFd => _owner;

    /// <summary>
    /// Marks the direction's edge consumed, so the next await waits for a new one, unless one
    /// arrived since this guard was made: call it after the fd returned EAGAIN, or after a read of a
    /// stream socket or pipe that took less than it asked (it emptied the fd). Hang-ups and errors
    /// stay known until a report without them or an EAGAIN seen by <see cref="TryIo"/>.
    /// </summary>
    public void ClearReady() => _owner.ClearReady(_direction, _tick);

    /// <summary>
    /// Runs <paramref name="io"/> on the fd and clears readiness when it would block, as tokio's
    /// <c>try_io</c> does. <paramref name="io"/> returns its result, or a negated errno
    /// (<c>-EAGAIN</c>, as the kernel's system calls return them).
    /// </summary>
    /// <returns>False when <paramref name="io"/> returned -EAGAIN (readiness is cleared); true otherwise, with its result, errors included.</returns>
    /// <exception cref="ObjectDisposedException">The fd's handle was closed.</exception>
    public bool TryIo<TState>(Func<int, TState, long> io, TState state, out long result)
    {
        ArgumentNullException.ThrowIfNull(io);
        // Referenced across the call, as TryRead's is: a Dispose on another thread cannot close
        // the number (and let it be reused) under the delegate.
        SafeHandle handle = _owner.Handle;
        bool referenced = false;
        handle.DangerousAddRef(ref referenced);
        try
        {
            result = io(_owner.Fd, state);
        }
        finally
        {
            handle.DangerousRelease();
        }
        if (result != -AsyncFd.EAGAIN)
            return true;
        _owner.ClearAfterEagain(_direction, _tick);
        return false;
    }
}
