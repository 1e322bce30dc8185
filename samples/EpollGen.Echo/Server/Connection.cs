namespace EpollGen.Echo.Server;

/// <summary>
/// One accepted connection of an <see cref="EventLoop"/>: its fd and the bytes read but not yet
/// echoed, in a pinned buffer from the loop's pool. Only the loop's thread touches it.
/// </summary>
internal sealed class Connection
{
    public int Fd;

    // Which use of the fd number this is: the event data carries it, so an event harvested for an
    // fd that was closed (and its number re-used by accept) earlier in the same batch is ignored.
    public uint Generation;

    public byte[] Buffer = [];

    // Unsent bytes are Buffer[Head..Tail).
    public int Head;
    public int Tail;

    // EPOLLOUT is in the registration only while a write has hit EAGAIN.
    public bool WantWrite;

    // The peer shut its side (read returned 0): flush what is left, then close.
    public bool ReadClosed;

    // Reading stopped because the buffer was full: the edges that came meanwhile are spent, so the
    // next read must go on to EAGAIN rather than trust a short read.
    public bool ReadPaused;

    public long LastActive;

    public int Pending => Tail - Head;
}
