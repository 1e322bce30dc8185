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

    /// <summary>The next record, waiting for the fd as needed.</summary>
    ValueTask<T> WaitAndReadAsync(CancellationToken cancellationToken);
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
            Current = await source.WaitAndReadAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ObjectDisposedException) when (source.IsDisposed)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
