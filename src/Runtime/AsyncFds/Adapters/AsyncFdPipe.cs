using System;
using System.IO.Pipelines;

namespace EpollGen;

/// <summary>
/// <see cref="PipeReader"/>s and <see cref="PipeWriter"/>s over nonblocking fds: a pump moves bytes
/// between the fd and a <see cref="Pipe"/>, reading straight into the pipe's memory and writing
/// straight from it, so no byte is copied on the way.
/// </summary>
public static class AsyncFdPipe
{
    /// <summary>
    /// A reader of <paramref name="fd"/>'s bytes. The pipe completes at end of file; a failed read
    /// completes it with the <see cref="FdException"/>, which the next
    /// <see cref="PipeReader.ReadAsync"/> throws. Completing the reader stops the pump, and
    /// disposes <paramref name="fd"/> unless <paramref name="leaveOpen"/>: once
    /// <see cref="PipeReader.CompleteAsync"/> returns, or soon after <see cref="PipeReader.Complete"/>.
    /// </summary>
    /// <param name="fd">The fd to read; it must wait for readability.</param>
    /// <param name="options">The pipe's pool, minimum segment size (each read(2) asks for at least that much room) and back-pressure thresholds; the defaults when null.</param>
    /// <param name="leaveOpen">Whether <paramref name="fd"/> stays undisposed when the reader completes.</param>
    /// <exception cref="ArgumentException"><paramref name="fd"/> does not wait for readability.</exception>
    public static PipeReader CreateReader(AsyncFd fd, PipeOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(fd);
        if ((fd.Interest & AsyncFdInterest.Readable) == 0)
            throw new ArgumentException("The AsyncFd does not wait for readability.", nameof(fd));
        return new AsyncFdPipeReader(fd, options ?? PipeOptions.Default, leaveOpen);
    }

    /// <summary>
    /// A writer to <paramref name="fd"/>. A flush hands the bytes to the pump and waits only while
    /// more than the pause threshold is still unwritten; a failed write completes the pipe with the
    /// <see cref="FdException"/>, which the next <see cref="PipeWriter.FlushAsync"/> throws.
    /// Completing the writer without an exception flushes: <see cref="PipeWriter.CompleteAsync"/>
    /// returns once every byte is written, however long the peer takes to read them. Completing it
    /// with an exception aborts: the pump stops at once, even while it waits for a peer that never
    /// reads, and the bytes not yet written are dropped; this holds after a completion without an
    /// exception too, which is how a caller gives up on a drain (where a Pipe's writer ignores a
    /// second completion). Either way the pump then disposes
    /// <paramref name="fd"/> unless <paramref name="leaveOpen"/>.
    /// </summary>
    /// <param name="fd">The fd to write; it must wait for writability.</param>
    /// <param name="options">The pipe's pool, segment size and back-pressure thresholds; the defaults when null.</param>
    /// <param name="leaveOpen">Whether <paramref name="fd"/> stays undisposed when the writer completes.</param>
    /// <exception cref="ArgumentException"><paramref name="fd"/> does not wait for writability.</exception>
    public static PipeWriter CreateWriter(AsyncFd fd, PipeOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(fd);
        if ((fd.Interest & AsyncFdInterest.Writable) == 0)
            throw new ArgumentException("The AsyncFd does not wait for writability.", nameof(fd));
        return new AsyncFdPipeWriter(fd, options ?? PipeOptions.Default, leaveOpen);
    }
}
