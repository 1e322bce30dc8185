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
    private CancellationToken _armedToken;
    private int _state;

    /// <summary>Whether an await waits: read by the engine after it published readiness.</summary>
    public bool IsArmed => Volatile.Read(ref _state) == Armed;

    /// <summary>Starts the await. Throws if one is already in flight in this direction.</summary>
    public ValueTask<AsyncFdReadyGuard> Arm(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, Arming, Idle) != Idle)
            throw new InvalidOperationException($"An AsyncFd allows one await per direction at a time; a {direction} await is already in flight.");
        _core.Reset();
        // Held while the await is in flight: the engine holds an AsyncFd weakly, so that one never
        // disposed is finalized, and an await must keep its fd (and its continuation) alive.
        owner.Root(direction);
        _armedToken = cancellationToken;
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

    // Only the await whose token this is: a callback of an earlier await's token that runs late
    // (see GetResult) must not end a later await that never asked for it.
    private void Cancel(CancellationToken token)
    {
        if (token == _armedToken)
            TrySetException(new OperationCanceledException(token));
    }

    private bool TryClaim() => Interlocked.CompareExchange(ref _state, Completing, Armed) == Armed;

    AsyncFdReadyGuard IValueTaskSource<AsyncFdReadyGuard>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Disposed, not just unregistered, before the next await can arm: Dispose waits for a
            // callback already running on another thread (Cancel popped it before this await
            // completed otherwise), whose claim then fails here, not on the next await.
            _cancellation.Dispose();
            _cancellation = default;
            _armedToken = default;
            owner.Unroot(direction);
            Volatile.Write(ref _state, Idle);
        }
    }

    ValueTaskSourceStatus IValueTaskSource<AsyncFdReadyGuard>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<AsyncFdReadyGuard>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
