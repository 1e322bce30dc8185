using System.IO;
using System.Runtime.InteropServices;

namespace EpollGen;

/// <summary>A system call on an fd failed; <see cref="Errno"/> is the Linux error number it failed with.</summary>
public sealed class FdException : IOException
{
    /// <summary>Creates the exception for <paramref name="operation"/> on <paramref name="fd"/> failing with <paramref name="errno"/>.</summary>
    public FdException(string operation, int fd, int errno)
        : base($"{operation} on fd {fd} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno)
    {
        Operation = operation;
        Fd = fd;
        Errno = errno;
    }

    /// <summary>The Linux error number (ECONNRESET, EPIPE, EBADF, ...).</summary>
    public int Errno { get; }

    /// <summary>The fd the call was made on.</summary>
    public int Fd { get; }

    /// <summary>The call that failed, such as <c>read</c>.</summary>
    public string Operation { get; }
}
