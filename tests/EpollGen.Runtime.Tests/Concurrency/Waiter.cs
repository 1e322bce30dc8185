using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using Xunit;

namespace EpollGen.Runtime.Tests.Concurrency;

/// <summary>
/// One wait call on a background thread of its own, observed from outside: when it is blocked,
/// whether it has returned, and what it returned. A waiter that never returns (the bug a test
/// looks for) cannot keep the test process alive.
/// </summary>
public sealed unsafe class Waiter
{
    /// <summary>The entries a waiter can take in one call.</summary>
    public const int Capacity = 16;

    private readonly ManualResetEventSlim _returned = new();
    private readonly Thread _thread;
    private readonly EpollEvent[] _events = new EpollEvent[Capacity];
    private int _tid;
    private long _started;

    /// <summary>Starts <paramref name="call"/>, which waits into the buffer it is given (room for <see cref="Capacity"/> entries).</summary>
    public Waiter(string name, WaitCall call)
    {
        _thread = new Thread(() =>
        {
            byte* buffer = stackalloc byte[Capacity * EpollEvent.NativeSize];
            Volatile.Write(ref _started, Stopwatch.GetTimestamp());
            Volatile.Write(ref _tid, TestLibC.gettid());
            Result = call(buffer);
            Errno = Marshal.GetLastPInvokeError();
            Elapsed = Stopwatch.GetElapsedTime(Volatile.Read(ref _started));
            for (int i = 0; i < Math.Min(Result, Capacity); i++)
                _events[i] = EpollEvent.ReadNative(buffer, i);
            _returned.Set();
        })
        {
            IsBackground = true,
            Name = name,
        };
        _thread.Start();
    }

    /// <summary>A wait into <paramref name="events"/>; returns what the epoll call returns.</summary>
    public delegate int WaitCall(byte* events);

    /// <summary>The thread's kernel id, once it runs.</summary>
    public int Tid => Volatile.Read(ref _tid);

    /// <summary>What the call returned; valid once <see cref="HasReturned"/>.</summary>
    public int Result { get; private set; }

    /// <summary>The errno after the call; valid once <see cref="HasReturned"/>.</summary>
    public int Errno { get; private set; }

    /// <summary>How long the call took; valid once <see cref="HasReturned"/>.</summary>
    public TimeSpan Elapsed { get; private set; }

    public bool HasReturned => _returned.IsSet;

    /// <summary>Set once the call has returned.</summary>
    public WaitHandle ReturnedHandle => _returned.WaitHandle;

    /// <summary>The <paramref name="index"/>th entry returned.</summary>
    public EpollEvent Event(int index) => _events[index];

    /// <summary>True when the call returns within <paramref name="within"/>.</summary>
    public bool Join(TimeSpan within) => _returned.Wait(within);

    /// <summary>
    /// Waits until the thread sleeps in the kernel inside its wait; fails the test after
    /// <paramref name="within"/>: the thread must sit in a wait system call (epoll_wait,
    /// epoll_pwait, epoll_pwait2, io_uring_enter, ppoll, poll), never a futex, which a thread
    /// blocked on a lock or stopped for a GC would pass for. EpollGen's waiters all sleep in one of
    /// those calls (kernel epoll's side by side, io_uring's behind the driver in ppoll). The state
    /// must hold for two reads in a row, so a thread passing through on its way in is not taken for
    /// a waiter.
    /// </summary>
    public void UntilBlocked(TimeSpan within)
    {
        long start = Stopwatch.GetTimestamp();
        string last = "";
        int seen = 0;
        while (Stopwatch.GetElapsedTime(start) < within)
        {
            Assert.False(HasReturned, $"{_thread.Name} returned {Result} (errno {Errno}) before it was seen blocked");
            int tid = Tid;
            if (tid != 0)
            {
                try
                {
                    last = File.ReadAllText($"/proc/self/task/{tid}/syscall");
                }
                catch (IOException)
                {
                    last = "gone";
                }
                seen = IsWaitSyscall(last) ? seen + 1 : 0;
                if (seen == 2)
                    return;
            }
            Thread.Sleep(2);
        }
        Assert.Fail($"{_thread.Name} was not blocked in a wait within {within}: {last}");
    }

    private static bool IsWaitSyscall(string state)
    {
        int space = state.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || !int.TryParse(state.AsSpan(0, space), out int number))
            return false;
        return RuntimeInformation.ProcessArchitecture == Architecture.X64
            ? number is 232 or 281 or 441 or 426 or 271 or 7
            : number is 22 or 441 or 426 or 73;
    }
}
