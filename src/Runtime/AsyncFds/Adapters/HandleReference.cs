using System;
using System.Runtime.InteropServices;

namespace EpollGen;

/// <summary>
/// A reference held on a handle for the length of a system call made with its raw fd, so a Dispose
/// on another thread cannot close the fd, and the number be handed to a new file, under the call.
/// </summary>
internal readonly ref struct HandleReference
{
    private readonly SafeHandle _handle;

    /// <summary>Takes the reference.</summary>
    /// <exception cref="ObjectDisposedException">The handle is closed already.</exception>
    public HandleReference(SafeHandle handle)
    {
        bool referenced = false;
        handle.DangerousAddRef(ref referenced);
        _handle = handle;
    }

    /// <summary>Gives the reference back; a Dispose that came meanwhile closes the fd now.</summary>
    public void Dispose() => _handle.DangerousRelease();
}
