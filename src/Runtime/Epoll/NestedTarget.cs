namespace EpollGen;

/// <summary>
/// The set a registration's fd names (an edge of the nesting graph), and how far the registration
/// has followed that set's wake-ups. Only nested registrations have one, so the others stay small.
/// </summary>
internal sealed class NestedTarget(EpollSet set)
{
    public EpollSet Set { get; } = set;

    /// <summary>
    /// The set's wake-up count when this registration last looked (io_uring sets only): a
    /// completion on the set's fd is a wake-up only if the count has moved since.
    /// </summary>
    public uint SeenWakes { get; set; }
}
