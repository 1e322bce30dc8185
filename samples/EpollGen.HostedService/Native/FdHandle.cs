using System;
using System.Runtime.InteropServices;

namespace EpollGen.HostedService.Native;

/// <summary>
/// An fd the service opened, closed exactly once when released. Registering the handle, not the
/// number, keeps the fd open for as long as an <see cref="EpollSet"/> holds its registration.
/// </summary>
internal sealed class FdHandle : SafeHandle
{
    public FdHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    /// <summary>The fd number, for calls made while the caller holds the handle.</summary>
    public int Fd => (int)handle;

    /// <summary>Wraps what an fd-returning call gave back, or throws with its errno.</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The call failed.</exception>
    public static FdHandle FromResult(int fd, string call)
    {
        if (fd < 0)
            throw Errors.Of(call);
        return new FdHandle(fd);
    }

    protected override bool ReleaseHandle() => Sys.close((int)handle) == 0;
}
