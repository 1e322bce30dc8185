namespace EpollGen.Native.IoUring;

/// <summary>The outcome of <see cref="IoUringRing.Submit(uint, System.TimeSpan?)"/>.</summary>
/// <param name="Submitted">SQEs the kernel consumed, over every io_uring_enter(2) the call made.</param>
/// <param name="Errno">
/// 0 when the wait was satisfied (or none was asked for); <c>ETIME</c> when the timeout passed
/// first; otherwise the errno io_uring_enter(2) failed with (<c>EBUSY</c>, <c>EAGAIN</c>, …).
/// </param>
internal readonly record struct IoUringSubmitResult(int Submitted, int Errno)
{
    /// <summary>True when the timeout passed before enough completions were ready.</summary>
    public bool TimedOut => Errno == LibC.ETIME;
}
