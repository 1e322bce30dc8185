using System;
using EpollGen.Native;

namespace EpollGen.Taps;

/// <summary>Submits tap requests, the way Akaros's <c>sys_tap_fds</c> does.</summary>
public static class FdTaps
{
    /// <summary>
    /// Carries out <paramref name="requests"/> in order and stops at the first that fails. Returns
    /// how many succeeded; when that is fewer than requested, <paramref name="errno"/> says why
    /// <c>requests[returned]</c> failed (and that request changed nothing). Errors: EBADF for a
    /// closed or negative fd or a disposed queue; EINVAL for an unknown command or mode, or a missing queue;
    /// EEXIST when adding a tap that exists; ENOENT when removing or modifying one that does not;
    /// ENOSYS for file-change filters, which poll(2)-based taps cannot report, and for modes the backend lacks (io_uring has none yet); EPERM for files the
    /// kernel cannot poll (regular files, directories); and whatever else the kernel says.
    /// </summary>
    public static int Submit(ReadOnlySpan<TapRequest> requests, out int errno)
    {
        errno = 0;
        for (int done = 0; done < requests.Length; done++)
        {
            errno = SubmitOne(in requests[done]);
            if (errno != 0)
                return done;
        }
        return requests.Length;
    }

    private static int SubmitOne(in TapRequest request)
    {
        if (request.Queue is null)
            return LibC.EINVAL;
        if (request.Command is not (TapCommand.Add or TapCommand.Remove or TapCommand.Modify)
            || (request.Modes & ~(TapModes.OneShot | TapModes.Level | TapModes.Exclusive)) != 0)
            return LibC.EINVAL;
        if (request.Fd < 0)
            return LibC.EBADF;
        return request.Queue.Tap(request);
    }
}
