using System;
using System.Runtime.InteropServices;

namespace EpollGen.Native;

/// <summary>
/// An fd the runtime made for itself (a queue's kernel epoll, an eventfd, a ring): closed by
/// <see cref="SafeHandle.Dispose()"/>, or by the critical finalizer when the object that owned it
/// was lost without being disposed. Owners keep <see cref="Value"/> for their system calls.
/// </summary>
internal sealed class OwnedFd : SafeHandle
{
    public OwnedFd(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    /// <summary>The fd's number, for system calls made while the owner lives.</summary>
    public int Value => (int)handle;

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}

/// <summary>
/// A region the runtime mapped (a ring's shared memory, a CEQ's reserved address range): unmapped
/// by <see cref="SafeHandle.Dispose()"/>, or by the critical finalizer when its owner was lost.
/// </summary>
internal sealed unsafe class OwnedMapping : SafeHandle
{
    private readonly nuint _length;

    public OwnedMapping(void* start, nuint length)
        : base(0, ownsHandle: true)
    {
        _length = length;
        SetHandle((nint)start);
    }

    public override bool IsInvalid => handle == 0 || handle == -1;

    protected override bool ReleaseHandle() => LibC.munmap((void*)handle, _length) == 0;
}
