using System;
using EpollGen.HostedService.Native;
using EpollGen.Interop;
using Microsoft.Extensions.Logging;

namespace EpollGen.HostedService.Sources;

/// <summary>
/// A signalfd for SIGHUP, the conventional "reload your configuration" signal. It only sees the
/// signal because every thread blocks it (<see cref="StartupSignals"/>): a signal that some thread
/// does not block is delivered there instead of staying pending for the fd.
/// </summary>
internal sealed unsafe class ReloadSignal : IEventSource, IDisposable
{
    private readonly ILogger _logger;

    private ReloadSignal(FdHandle handle, ILogger logger)
    {
        Handle = handle;
        _logger = logger;
    }

    public FdHandle Handle { get; }

    /// <summary>Opens the signalfd; SIGHUP must already be blocked in every thread.</summary>
    public static ReloadSignal Open(ILogger logger)
    {
        ulong* mask = stackalloc ulong[Sys.SigSetLongs];
        new Span<ulong>(mask, Sys.SigSetLongs).Clear();
        mask[0] = 1UL << (Sys.SIGHUP - 1);
        return new ReloadSignal(FdHandle.FromResult(Sys.signalfd(-1, mask, Sys.SFD_NONBLOCK | Sys.SFD_CLOEXEC), "signalfd"), logger);
    }

    public void Drain()
    {
        // One record per pending signal; standard signals do not queue, so SIGHUPs sent before a
        // read are one record.
        byte* info = stackalloc byte[SignalFdSigInfo.NativeSize];
        while (NonBlocking.Read(Handle, info, SignalFdSigInfo.NativeSize, "read(signalfd)") == SignalFdSigInfo.NativeSize)
        {
            SignalFdSigInfo signal = SignalFdSigInfo.ReadNative(info);
            if (signal.ssi_signo == Sys.SIGHUP)
                Log.ReloadRequested(_logger, signal.ssi_pid);
        }
    }

    public void Dispose() => Handle.Dispose();
}
