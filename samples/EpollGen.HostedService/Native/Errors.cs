using System.ComponentModel;
using System.Runtime.InteropServices;

namespace EpollGen.HostedService.Native;

/// <summary>Failed libc calls as exceptions that carry the errno and name the call.</summary>
internal static class Errors
{
    /// <summary>The last P/Invoke error, for <paramref name="call"/> that just returned -1.</summary>
    public static Win32Exception Of(string call)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new Win32Exception(errno, $"{call} failed with errno {errno} ({Marshal.GetPInvokeErrorMessage(errno)})");
    }
}
