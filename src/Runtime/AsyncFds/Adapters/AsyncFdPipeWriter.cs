using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;

namespace EpollGen;

/// <summary>
/// The writer <see cref="AsyncFdPipe.CreateWriter"/> returns: the writing end of a pipe that a
/// pump drains into the fd, writing from the pipe's own segments.
/// </summary>
internal sealed class AsyncFdPipeWriter : PipeWriter
{
    private readonly AsyncFd _fd;
    private readonly Pipe _pipe;
    private readonly bool _leaveOpen;
    // Cancelled by a completion with an error: the pump may be waiting for a peer that never reads.
    // Never disposed: it has no timer, and a Dispose by the pump could race Complete's Cancel.
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _pump;
    private int _completed;

    public AsyncFdPipeWriter(AsyncFd fd, PipeOptions options, bool leaveOpen)
    {
        _fd = fd;
        _leaveOpen = leaveOpen;
        _pipe = new Pipe(options);
        _pump = Task.Run(PumpAsync);
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => _pipe.Writer.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => _pipe.Writer.GetSpan(sizeHint);

    public override void Advance(int bytes) => _pipe.Writer.Advance(bytes);

    public override bool CanGetUnflushedBytes => _pipe.Writer.CanGetUnflushedBytes;

    public override long UnflushedBytes => _pipe.Writer.UnflushedBytes;

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) =>
        _pipe.Writer.FlushAsync(cancellationToken);

    public override void CancelPendingFlush() => _pipe.Writer.CancelPendingFlush();

    /// <summary>
    /// Without <paramref name="exception"/>, completes the pipe: the pump writes what is left in the
    /// background, waiting for the peer to take it, then releases the fd. With one, aborts: the
    /// pump stops where it is, unwritten bytes are dropped, and the fd is released at once. A
    /// completion with an exception after one without aborts the drain that one started.
    /// </summary>
    public override void Complete(Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
            _pipe.Writer.Complete(exception);
        // Even after a graceful completion: its drain may wait for a peer that never reads, and
        // this is how a caller gives up on it. Once the pump has ended, there is nothing to stop.
        if (exception is not null)
            _abort.Cancel();
    }

    /// <summary>
    /// Completes as <see cref="Complete"/> does and returns once the pump has stopped and released
    /// the fd: without <paramref name="exception"/>, after every byte is written, however long the
    /// peer takes to read them; with one, without waiting for the peer.
    /// </summary>
    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        Complete(exception);
        await _pump.ConfigureAwait(false);
    }

    private async Task PumpAsync()
    {
        PipeReader reader = _pipe.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(_abort.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    ReadOnlyMemory<byte> left = segment;
                    // TryWrite and the readiness await, not AsyncFd.WriteAsync: no async call per
                    // segment, so the pump allocates nothing per write in any build.
                    while (!left.IsEmpty)
                    {
                        if (_fd.TryWrite(left.Span, out int written))
                            left = left[written..];
                        else
                            await _fd.WritableAsync(_abort.Token).ConfigureAwait(false);
                    }
                }
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                    break;
            }
            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // The writer aborted: no one is left to tell, and the unwritten bytes go with the pipe.
            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // FdException from a write (EPIPE when the peer is gone): the writer's next FlushAsync
            // throws it. A writer that completed with an exception of its own gets it back here.
            await reader.CompleteAsync(e).ConfigureAwait(false);
        }
        finally
        {
            if (!_leaveOpen)
                _fd.Dispose();
        }
    }
}
