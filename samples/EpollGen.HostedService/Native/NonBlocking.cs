using System.Runtime.InteropServices;

namespace EpollGen.HostedService.Native;

/// <summary>read(2) on a non-blocking fd, with EAGAIN as an answer rather than an error.</summary>
internal static unsafe class NonBlocking
{
    /// <summary>
    /// Reads into <paramref name="buffer"/>: the byte count, or 0 when nothing is left to read
    /// (EAGAIN). A read a signal interrupted is retried; any other error throws, naming <paramref name="call"/>.
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The read failed.</exception>
    public static int Read(FdHandle handle, void* buffer, int size, string call)
    {
        while (true)
        {
            nint length = Sys.read(handle.Fd, buffer, (nuint)size);
            if (length >= 0)
                return (int)length;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == Sys.EAGAIN)
                return 0;
            if (errno != Sys.EINTR)
                throw Errors.Of(call);
        }
    }
}
