using System;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace EpollGen;

/// <summary>
/// The one await of an <see cref="AsyncFd"/> in one direction: a reusable value-task source, so an
/// await that has to wait allocates nothing. Whoever moves it from armed to completing (the engine
/// with readiness, the awaiting call finding readiness itself, cancellation, or Dispose) completes it.
/// </summary>
internal sealed class ReadinessWaiter(AsyncFd owner, AsyncFdInterest direction) : IValueTaskSource<AsyncFdReadyGuard>
{
    private const int Idle = 0;
    private const int Arming = 1;
    private const int Armed = 2;
    private const int Completing = 3;

    // Continuations go to the thread pool: the engine thread that completes an await must go back
    // to its wait, not run the awaiting code.
    private ManualResetValueTaskSourceCore<AsyncFdReadyGuard> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private int _state;

    /// <summary>Whether an await waits: read by the engine after it published readiness.</summary>
    public bool IsArmed => Volatile.Read(ref _state) == Armed;

    /// <summary>Starts the await. Throws if one is already in flight in this direction.</summary>
    public ValueTask<AsyncFdReadyGuard> Arm(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, Arming, Idle) != Idle)
            throw new InvalidOperationException($"An AsyncFd allows one await per direction at a time; a {direction} await is already in flight.");
        _core.Reset();
        _cancellation = cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static (state, token) => ((ReadinessWaiter)state!).Cancel(token), this)
            : default;
        // Exchange, a full fence: Armed is visible before the readiness is read again below, and
        // the engine publishes readiness before it reads the state, so a readiness event lands in
        // one of the two reads (the engine's or this call's) and the await cannot miss it.
        Interlocked.Exchange(ref _state, Armed);
        // A cancellation whose callback ran while the await was still arming found it not armed.
        if (cancellationToken.IsCancellationRequested)
            Cancel(cancellationToken);
        else if (owner.ReadyIn(direction, out AsyncFdReadyGuard guard))
            TrySetResult(guard);
        return new ValueTask<AsyncFdReadyGuard>(this, _core.Version);
    }

    /// <summary>Completes the await with readiness, if it is armed.</summary>
    public void TrySetResult(AsyncFdReadyGuard guard)
    {
        if (!TryClaim())
            return;
        _core.SetResult(guard);
    }

    /// <summary>Completes the await with <paramref name="error"/>, if it is armed.</summary>
    public void TrySetException(Exception error)
    {
        if (!TryClaim())
            return;
        _core.SetException(error);
    }

    private void Cancel(CancellationToken token) =>
        TrySetException(new OperationCanceledException(token));

    private bool TryClaim()
    {
        if (Interlocked.CompareExchange(ref _state, Completing, Armed) != Armed)
            return false;
        // Unregister never blocks: a callback running now finds the await claimed and does nothing.
        _cancellation.Unregister();
        _cancellation = default;
        return true;
    }

    AsyncFdReadyGuard IValueTaskSource<AsyncFdReadyGuard>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Volatile.Write(ref _state, Idle);
        }
    }

    ValueTaskSourceStatus IValueTaskSource<AsyncFdReadyGuard>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<AsyncFdReadyGuard>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
