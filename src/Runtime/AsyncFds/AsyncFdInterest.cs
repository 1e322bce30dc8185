using System;

namespace EpollGen;

/// <summary>Which directions an <see cref="AsyncFd"/> waits for.</summary>
[Flags]
public enum AsyncFdInterest
{
    /// <summary>Readable: EPOLLIN, and the hang-ups and errors that make a read return at once.</summary>
    Readable = 1,

    /// <summary>Writable: EPOLLOUT, and the hang-ups and errors that make a write return at once.</summary>
    Writable = 2,

    /// <summary>Both directions.</summary>
    ReadWrite = Readable | Writable,
}
