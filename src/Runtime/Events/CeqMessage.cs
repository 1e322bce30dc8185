namespace EpollGen.Events;

/// <summary>
/// What a consumer takes from a CEQ: the id, the bits coalesced since the id was last taken
/// (never zero), the last blob posted, and the user data the id was allocated with.
/// </summary>
/// <param name="Id">The id posted to, with the generation the bits were posted under.</param>
/// <param name="Bits">The coalesced bits (OR) or the sum (ADD); never zero.</param>
/// <param name="Blob">The blob of the latest post; racy by design: not atomic with the bits.</param>
/// <param name="UserData">
/// The value given to <see cref="CoalescingEventQueue.Allocate"/>, read after the bits: if the id was
/// freed and reallocated in between, it can be the next user's (<see cref="CoalescingEventQueue.IsCurrent"/> tells).
/// </param>
public readonly record struct CeqMessage(CeqId Id, uint Bits, ulong Blob, ulong UserData);
