using System;
using System.IO.Pipelines;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;

namespace EpollGen.AspNetCore;

/// <summary>The receive loop: socket to input pipe.</summary>
internal sealed partial class EpollGenConnection
{
    private async Task ReceiveAsync()
    {
        Exception? error = null;
        PipeWriter input = _input.Writer;
        try
        {
            while (true)
            {
                AsyncFdReadyGuard guard = await _fd.ReadableAsync().ConfigureAwait(false);
                // A block is taken only once data is there, so an idle connection holds none.
                Memory<byte> buffer = input.GetMemory();
                if (!_fd.TryRead(buffer.Span, out int received))
                    continue;
                if (received == 0)
                    break;
                // A short read took all the socket had, so the next read would meet EAGAIN: clear
                // now and save that call. Safe through the guard: an edge that arrived since the
                // guard was taken advanced the tick, and then the clear does nothing.
                if (received < buffer.Length)
                    guard.ClearReady();
                input.Advance(received);
                FlushResult flushed = await input.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                    break;
            }
        }
        catch (Exception e)
        {
            error = Failed(e);
        }
        finally
        {
            // An abort's reason wins: the end of file it caused is not the peer's.
            input.Complete(_abortReason ?? error);
            // DisposeAsync awaits this loop, so it returns only after the callbacks did.
            await FireConnectionClosed().ConfigureAwait(false);
        }
    }
}
