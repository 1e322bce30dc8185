using System;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;

namespace EpollGen;

/// <summary>
/// The reader <see cref="AsyncFdPipe.CreateReader"/> returns: the reading end of a pipe that a
/// pump fills from the fd, reading into the memory the pipe hands out.
/// </summary>
internal sealed class AsyncFdPipeReader : PipeReader
{
    private readonly AsyncFd _fd;
    private readonly Pipe _pipe;
    private readonly bool _leaveOpen;
    private readonly int _readSize;
    // Cancelled when the reader completes: the pump may be waiting for the fd, not for the pipe.
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _completed;

    public AsyncFdPipeReader(AsyncFd fd, PipeOptions options, bool leaveOpen)
    {
        _fd = fd;
        _leaveOpen = leaveOpen;
        _pipe = new Pipe(options);
        _readSize = Math.Max(1, options.MinimumSegmentSize);
        _pump = Task.Run(PumpAsync);
    }

    public override bool TryRead(out ReadResult result) => _pipe.Reader.TryRead(out result);

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        _pipe.Reader.ReadAsync(cancellationToken);

    public override void AdvanceTo(SequencePosition consumed) => _pipe.Reader.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) =>
        _pipe.Reader.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => _pipe.Reader.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
            return;
        _pipe.Reader.Complete(exception);
        _stop.Cancel();
        // The pump owns the fd until it stops, so it disposes it on its way out.
        _ = _pump.ContinueWith(
            static (_, state) => ((AsyncFdPipeReader)state!).Release(),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Completes the reader and returns once the pump has stopped and released the fd.</summary>
    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        Complete(exception);
        await _released.Task.ConfigureAwait(false);
    }

    private void Release()
    {
        _stop.Dispose();
        if (!_leaveOpen)
            _fd.Dispose();
        _released.TrySetResult();
    }

    private async Task PumpAsync()
    {
        PipeWriter writer = _pipe.Writer;
        try
        {
            while (true)
            {
                Memory<byte> memory = writer.GetMemory(_readSize);
                int read;
                // TryRead and the readiness await, not AsyncFd.ReadAsync: no async call per read,
                // so the pump allocates nothing per read in any build.
                while (!_fd.TryRead(memory.Span, out read))
                    await _fd.ReadableAsync(_stop.Token).ConfigureAwait(false);
                if (read == 0)
                    break;
                writer.Advance(read);
                FlushResult flushed = await writer.FlushAsync(_stop.Token).ConfigureAwait(false);
                if (flushed.IsCompleted)
                    break;
            }
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // The reader completed: no one is left to tell.
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // FdException from a read, or ObjectDisposedException if the fd was disposed under the
            // pump: the reader's next ReadAsync throws it.
            await writer.CompleteAsync(e).ConfigureAwait(false);
        }
    }
}
