using System.IO;
using System.Runtime.InteropServices;

namespace EpollGen;

/// <summary>An epoll operation failed; <see cref="Errno"/> is the Linux error number it failed with.</summary>
public sealed class EpollException : IOException
{
    /// <summary>Creates the exception for <paramref name="operation"/> failing with <paramref name="errno"/>.</summary>
    public EpollException(string operation, int errno)
        : base($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno)
    {
        Operation = operation;
        Errno = errno;
    }

    /// <summary>The Linux error number (EBADF, EEXIST, ENOENT, ...).</summary>
    public int Errno { get; }

    /// <summary>The operation that failed, such as <c>epoll_ctl(ADD)</c>.</summary>
    public string Operation { get; }
}
