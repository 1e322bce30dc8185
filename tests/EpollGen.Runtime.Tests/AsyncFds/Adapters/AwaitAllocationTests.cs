using System;
using System.IO;
using System.Threading.Tasks;
using EpollGen.Taps;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>
/// The stream's and the timer's steady state when each call has to wait for the fd: the whole
/// process's allocations across many rounds, the fewest of several batches.
/// </summary>
[Collection(AllocationCollection.Name)]
public abstract class AwaitAllocationTests(TapBackendKind backend) : AdapterTests(backend)
{
    [OptimizedRuntimeFact]
    public async Task StreamReads_ThatWaitForTheFd_AllocateNothing()
    {
        const int Rounds = 5000;
        (int read, int write) = TrackedPipe();
        using var stream = new AsyncFdStream(new SafeFileHandle(read, ownsHandle: false), FileAccess.Read, ownsHandle: false, Engine(read));
        Memory<byte> buffer = new byte[16];

        // Off the test framework's synchronization context, whose posts would allocate.
        long fewest = await Task.Run(() => OptimizedRuntimeFactAttribute.FewestBytes(async () =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                // Started before the byte is written, so each read meets EAGAIN and waits for the edge.
                ValueTask<int> reading = stream.ReadAsync(buffer);
                if (!WriteOneByte(write) || await reading.ConfigureAwait(false) != 1)
                    throw new InvalidOperationException("the round trip failed");
            }
        })).WaitAsync(Bound * 3);

        Assert.InRange(fewest, 0, Rounds * OptimizedRuntimeFactAttribute.BytesPerRound - 1);
    }

    [OptimizedRuntimeFact]
    public async Task TimerWaits_ThatWaitForATick_AllocateNothing()
    {
        const int Ticks = 300;
        using var timer = new TimerFdPeriodicTimer(TimeSpan.FromMilliseconds(1), Engine);

        long fewest = await Task.Run(() => OptimizedRuntimeFactAttribute.FewestBytes(async () =>
        {
            for (int i = 0; i < Ticks; i++)
            {
                if (!await timer.WaitForNextTickAsync().ConfigureAwait(false))
                    throw new InvalidOperationException("the timer stopped");
            }
        })).WaitAsync(Bound * 3);

        Assert.InRange(fewest, 0, Ticks * OptimizedRuntimeFactAttribute.BytesPerRound - 1);
    }
}

[Collection(AllocationCollection.Name)]
public sealed class AwaitAllocationTests_Epoll() : AwaitAllocationTests(TapBackendKind.Epoll);

[Collection(AllocationCollection.Name)]
public sealed class AwaitAllocationTests_IoUring() : AwaitAllocationTests(TapBackendKind.IoUring);
