using System;
using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using EpollGen.AspNetCore.Native;
using Microsoft.AspNetCore.Connections;

namespace EpollGen.AspNetCore;

/// <summary>The send loop: output pipe to socket, several segments in one writev(2).</summary>
internal sealed partial class EpollGenConnection
{
    // A full output pipe is 64 KiB by default, 16 blocks of 4 KiB: one writev takes it whole.
    private const int MaxVectors = 32;

    // Made on the first write of several segments: a plaintext connection never needs it.
    private MemoryHandle[]? _pins;

    private async Task SendAsync()
    {
        Exception? error = null;
        PipeReader output = _output.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await output.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                    break;
                ReadOnlySequence<byte> unsent = result.Buffer;
                while (!unsent.IsEmpty)
                {
                    AsyncFdReadyGuard guard = await _fd.WritableAsync().ConfigureAwait(false);
                    long written = Write(guard, unsent);
                    if (written > 0)
                        unsent = unsent.Slice(written);
                }
                output.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (Exception e)
        {
            error = Failed(e);
        }
        finally
        {
            Shutdown();
            output.Complete(_abortReason ?? error);
        }
    }

    /// <summary>Bytes the socket took, or -1 when it took none (EAGAIN; readiness is cleared).</summary>
    private long Write(AsyncFdReadyGuard guard, in ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
            return _fd.TryWrite(buffer.FirstSpan, out int written) ? written : -1;
        return WriteVectors(guard, buffer);
    }

    private unsafe long WriteVectors(AsyncFdReadyGuard guard, in ReadOnlySequence<byte> buffer)
    {
        IoVector* vectors = stackalloc IoVector[MaxVectors];
        MemoryHandle[] pins = _pins ??= new MemoryHandle[MaxVectors];
        int count = 0;
        try
        {
            foreach (ReadOnlyMemory<byte> segment in buffer)
            {
                if (segment.IsEmpty)
                    continue;
                // Kestrel's blocks are pinned already, so this pins nothing; other pools' arrays get a handle.
                pins[count] = segment.Pin();
                vectors[count].Base = (byte*)pins[count].Pointer;
                vectors[count].Length = (nuint)segment.Length;
                if (++count == MaxVectors)
                    break;
            }
            if (!guard.TryIo(static (fd, state) => Writev(fd, state.Vectors, state.Count), (Vectors: (nint)vectors, Count: count), out long result))
                return -1;
            if (result < 0)
                throw new FdException("writev", _fd.Fd, (int)-result);
            return result;
        }
        finally
        {
            for (int i = 0; i < count; i++)
                pins[i].Dispose();
        }
    }

    // TryIo's contract: the byte count, or the errno negated.
    private static unsafe long Writev(int fd, nint vectors, int count)
    {
        nint written;
        do
            written = SocketCalls.writev(fd, (IoVector*)vectors, count);
        while (written < 0 && Marshal.GetLastPInvokeError() == SocketCalls.EINTR);
        return written >= 0 ? written : -Marshal.GetLastPInvokeError();
    }
}
