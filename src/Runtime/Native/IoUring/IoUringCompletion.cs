namespace EpollGen.Native.IoUring;

/// <summary>One reaped completion: a copy of a CQE, so the ring slot can be handed back at once.</summary>
/// <param name="UserData">The <c>user_data</c> of the request (or, for a message, what the sender chose).</param>
/// <param name="Result">The request's result: non-negative on success, a negated errno on failure.</param>
/// <param name="Flags">The <c>IORING_CQE_F_*</c> flags.</param>
internal readonly record struct IoUringCompletion(ulong UserData, int Result, uint Flags)
{
    /// <summary>
    /// True when the request stays armed and will complete again (<c>IORING_CQE_F_MORE</c>). A
    /// multishot completion without it is the last one: the request ended and must be re-armed.
    /// </summary>
    public bool HasMore => (Flags & IoUringConstants.IORING_CQE_F_MORE) != 0;
}
