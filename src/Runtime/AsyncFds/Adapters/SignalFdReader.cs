using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Native;

namespace EpollGen;

/// <summary>
/// Signals as an asynchronous stream: a signalfd for a set of signals, read through an
/// <see cref="AsyncFd"/>, each signal a <see cref="SignalFdSigInfo"/> (number, code, sender's pid
/// and uid, ...).
/// </summary>
/// <remarks>
/// <para>
/// A signalfd only sees signals that stay <em>pending</em>, and a signal stays pending only where
/// it is blocked. For a signal sent to the process (kill(2), <c>kill -HUP</c>), the kernel hands it
/// to any thread that does not block it, and there it is handled, ignored or kills the process
/// before the signalfd sees it. So the signal must be blocked in <em>every</em> thread. The
/// reader does not change signal masks: pthread_sigmask(3) blocks a signal in the calling thread
/// only, and by the time a .NET program runs, the runtime's own threads (finalizer, thread pool,
/// tiered compilation) exist with nothing blocked. A new thread inherits its creator's mask, and a
/// mask survives execve(2): block the signals before the runtime starts (a launcher, systemd's
/// or a shell's mask, or the program executing itself again once with them blocked, as
/// samples/EpollGen.HostedService does). <see cref="IsBlockedInEveryThread"/> checks it. The
/// AsyncFd engine threads block signals 1 to 31 (all but those a fault raises) themselves.
/// </para>
/// <para>
/// A signal sent to one thread (tgkill(2), pthread_kill(3)) is pending for that thread alone and
/// only a read on that thread takes it: <see cref="TryRead"/>, and a <see cref="ReadAsync"/> that
/// finds it at once, do, since they read on the calling thread; an await cannot, since readiness
/// is polled on an engine thread.
/// </para>
/// <para>
/// One read at a time: <see cref="ReadAsync"/>, <see cref="TryRead"/> and the enumerator share a
/// batch buffer. Standard signals do not queue: several of one signal sent before a read are one
/// record. Reads allocate nothing once warm.
/// </para>
/// </remarks>
public sealed class SignalFdReader : IAsyncEnumerable<SignalFdSigInfo>, IRecordSource<SignalFdSigInfo>, IDisposable
{
    private const int SIGKILL = 9;
    private const int SIGSTOP = 19;
    private const int MaxSignal = 64;
    private const int BatchSize = 16;

    private readonly AsyncFd _fd;
    private readonly int[] _signals;
    // Read into straight from the kernel: the generated struct has the kernel's layout.
    private readonly SignalFdSigInfo[] _batch = new SignalFdSigInfo[BatchSize];
    private int _next;
    private int _count;
    private int _disposed;

    /// <summary>Opens a signalfd for <paramref name="signals"/> (Linux numbers, such as 1 for SIGHUP).</summary>
    /// <exception cref="ArgumentException">No signal was given.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is not a signal, or is SIGKILL or SIGSTOP, which cannot be caught.</exception>
    /// <exception cref="FdException">signalfd failed (EMFILE, ...).</exception>
    public SignalFdReader(params ReadOnlySpan<int> signals)
        : this(signals, engineFor: null)
    {
    }

    internal unsafe SignalFdReader(ReadOnlySpan<int> signals, Func<int, AsyncFdEngine>? engineFor)
    {
        if (signals.IsEmpty)
            throw new ArgumentException("At least one signal.", nameof(signals));
        byte* mask = stackalloc byte[LibC.SigSetBytes];
        LibC.sigemptyset(mask);
        foreach (int signal in signals)
        {
            if (signal is < 1 or > MaxSignal or SIGKILL or SIGSTOP)
                throw new ArgumentOutOfRangeException(nameof(signals), signal, "A signal from 1 to 64, other than SIGKILL and SIGSTOP, which no one can catch.");
            LibC.sigaddset(mask, signal);
        }
        _fd = AsyncFd.OwnNewReadable("signalfd", LibC.signalfd(-1, mask, LibC.SFD_NONBLOCK | LibC.SFD_CLOEXEC), engineFor);
        _signals = signals.ToArray();
    }

    /// <summary>The signalfd.</summary>
    public int Fd => _fd.Fd;

    /// <summary>The signals this reader reads.</summary>
    public ReadOnlySpan<int> Signals => _signals;

    /// <summary>Takes a pending signal without waiting: false when none is pending for this thread or the process.</summary>
    /// <exception cref="FdException">read failed.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    public bool TryRead(out SignalFdSigInfo signal)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_next == _count && !TryFill())
        {
            signal = default;
            return false;
        }
        signal = _batch[_next++];
        return true;
    }

    /// <summary>Takes the next signal, waiting for one as needed.</summary>
    /// <exception cref="FdException">read failed.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed, or is disposed during the wait.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public ValueTask<SignalFdSigInfo> ReadAsync(CancellationToken cancellationToken = default) =>
        RecordReads.ReadAsync(this, cancellationToken);

    /// <summary>
    /// The signals as they come, until the reader is disposed (the stream then ends) or
    /// <paramref name="cancellationToken"/> is cancelled (<see cref="OperationCanceledException"/>).
    /// </summary>
    public IAsyncEnumerator<SignalFdSigInfo> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new RecordEnumerator<SignalFdSigInfo>(this, cancellationToken);

    /// <summary>
    /// Whether <paramref name="signal"/> is blocked in every thread of the process now, as the
    /// kernel lists them in /proc/self/task: the condition for a process-directed signal to reach
    /// a signalfd. A thread started later inherits its creator's mask.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="signal"/> is not from 1 to 64.</exception>
    public static bool IsBlockedInEveryThread(int signal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(signal, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, MaxSignal);
        ulong bit = 1UL << (signal - 1);
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (BlockedMask(Path.Combine(task, "status")) is { } blocked && (blocked & bit) == 0)
                return false;
        }
        return true;
    }

    /// <summary>Closes the signalfd: a read in flight throws <see cref="ObjectDisposedException"/>, an enumeration ends.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _fd.Dispose();
    }

    private bool TryFill()
    {
        if (!_fd.TryRead(MemoryMarshal.AsBytes(_batch.AsSpan()), out int bytes))
            return false;
        // Whole records only: the kernel never splits one.
        _count = bytes / SignalFdSigInfo.NativeSize;
        _next = 0;
        return _count > 0;
    }

    // The SigBlk line of a thread's status: the blocked set as 16 hex digits. Null for a thread
    // that exited while the directory was listed.
    private static ulong? BlockedMask(string status)
    {
        try
        {
            foreach (string line in File.ReadLines(status))
            {
                if (line.StartsWith("SigBlk:", StringComparison.Ordinal))
                    return ulong.Parse(line.AsSpan("SigBlk:".Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    bool IRecordSource<SignalFdSigInfo>.IsDisposed => Volatile.Read(ref _disposed) != 0;

    AsyncFd IRecordSource<SignalFdSigInfo>.Readiness => _fd;
}
