using System.Threading;

namespace EpollGen.Preload;

/// <summary>
/// The C shim's table of which fds concern EpollGen (one byte per fd, in interpose.c): a call on
/// an fd with no bits never leaves C. Written here after every call that can change an fd's bits.
/// </summary>
internal static unsafe class FdTable
{
    /// <summary>The fd names an EpollGen set.</summary>
    public const byte NamesSet = 1;

    /// <summary>The fd was added to an EpollGen set, so its close must reach the sets.</summary>
    public const byte Registered = 2;

    private static readonly Lock s_lock = new();
    private static byte* s_table;
    private static nuint s_length;

    public static void Attach(byte* table, nuint length)
    {
        s_table = table;
        s_length = length;
    }

    /// <summary>Marks <paramref name="fd"/> as added to a set; kept until it is closed or replaced.</summary>
    public static void MarkRegistered(int fd)
    {
        if (!Covers(fd) || (Volatile.Read(ref s_table[fd]) & Registered) != 0)
            return;
        lock (s_lock)
            Volatile.Write(ref s_table[fd], (byte)(s_table[fd] | Registered));
    }

    /// <summary>
    /// Sets <paramref name="fd"/>'s bits to what it is now: a set's name or nothing. Called for an
    /// fd just created, closed or replaced, which no set has registered under this number yet.
    /// </summary>
    public static void Refresh(int fd)
    {
        if (!Covers(fd))
            return;
        lock (s_lock)
            Volatile.Write(ref s_table[fd], EpollNames.Find(fd) is null ? (byte)0 : NamesSet);
    }

    private static bool Covers(int fd) => s_table is not null && (nuint)(uint)fd < s_length;
}
