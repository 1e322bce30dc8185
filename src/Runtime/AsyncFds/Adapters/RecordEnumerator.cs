using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace EpollGen;

/// <summary>An adapter that decodes records from its fd: what <see cref="RecordEnumerator{T}"/> enumerates.</summary>
internal interface IRecordSource<T>
{
    /// <summary>Whether the adapter was disposed: the enumeration then ends.</summary>
    bool IsDisposed { get; }

    /// <summary>The next record, if one is buffered or the fd has one now.</summary>
    bool TryRead(out T record);

    /// <summary>The AsyncFd whose readability means a record may be there.</summary>
    AsyncFd Readiness { get; }
}

/// <summary>The reads every record adapter offers, on top of its <see cref="IRecordSource{T}.TryRead"/>.</summary>
internal static class RecordReads
{
    /// <summary>
    /// The next record, waiting for the fd as needed. The read comes first, and outside an async
    /// method: what is there already is taken on the calling thread without allocating, even where
    /// async methods are not optimized.
    /// </summary>
    public static ValueTask<T> ReadAsync<T>(IRecordSource<T> source, CancellationToken cancellationToken) =>
        source.TryRead(out T record) ? new ValueTask<T>(record) : WaitAndReadAsync(source, cancellationToken);

    /// <summary>Waits for the fd until a record can be taken.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<T> WaitAndReadAsync<T>(IRecordSource<T> source, CancellationToken cancellationToken)
    {
        T record;
        do
            await source.Readiness.ReadableAsync(cancellationToken).ConfigureAwait(false);
        while (!source.TryRead(out record));
        return record;
    }
}

/// <summary>
/// The async enumeration of an adapter's records (signals, inotify events): a record already
/// there completes the move at once, with nothing allocated; the enumeration ends, rather than
/// throwing, when the adapter is disposed.
/// </summary>
internal sealed class RecordEnumerator<T>(IRecordSource<T> source, CancellationToken cancellationToken) : IAsyncEnumerator<T>
{
    public T Current { get; private set; } = default!;

    public ValueTask<bool> MoveNextAsync()
    {
        if (source.IsDisposed)
            return new ValueTask<bool>(false);
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<bool>(cancellationToken);
        T next;
        try
        {
            if (!source.TryRead(out next))
                return WaitAsync();
        }
        catch (ObjectDisposedException) when (source.IsDisposed)
        {
            return new ValueTask<bool>(false);
        }
        Current = next;
        return new ValueTask<bool>(true);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitAsync()
    {
        try
        {
            Current = await RecordReads.WaitAndReadAsync(source, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ObjectDisposedException) when (source.IsDisposed)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
