using System;
using System.Runtime.InteropServices;

namespace EpollGen.AspNetCore.Native;

/// <summary>A socket fd owned by the transport: closed when the handle is released.</summary>
internal sealed class SocketHandle : SafeHandle
{
    public SocketHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => SocketCalls.close((int)handle) == 0;
}
