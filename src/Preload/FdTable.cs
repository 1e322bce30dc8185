using System.Collections.Generic;
using System.Threading;
using EpollGen.Native;

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

    /// <summary>The shim's lazy set (a kernel epoll not yet adopted); only the shim writes it.</summary>
    public const byte LazySet = 4;

    /// <summary>The fd is the runtime's own (<see cref="PrivateFds"/>): a program's close_range leaves it open.</summary>
    public const byte Private = 8;

    private static readonly Lock s_lock = new();
    private static byte* s_table;
    private static nuint s_length;
    // The shim's watermark: the highest fd that ever had bits, raised before the bits are written.
    private static int* s_highest;

    public static void Attach(byte* table, nuint length, int* highest)
    {
        s_table = table;
        s_length = length;
        s_highest = highest;
        PrivateFds.Watcher = Watch;
    }

    // PrivateFds' watcher: the runtime opened fd for itself, or is about to close fd.
    private static void Watch(int fd, bool opened)
    {
        if (!Covers(fd) || (!opened && (Volatile.Read(ref s_table[fd]) & Private) == 0))
            return;
        lock (s_lock)
        {
            if (opened)
                Cover(fd);
            // A number just opened holds no file of the program's: whatever marks it had are stale.
            Volatile.Write(ref s_table[fd], opened ? Private : (byte)(s_table[fd] & ~Private));
        }
    }

    /// <summary>Marks <paramref name="fd"/> as added to a set; kept until it is closed or replaced.</summary>
    public static void MarkRegistered(int fd)
    {
        if (!Covers(fd) || (Volatile.Read(ref s_table[fd]) & Registered) != 0)
            return;
        lock (s_lock)
        {
            Cover(fd);
            Volatile.Write(ref s_table[fd], (byte)(s_table[fd] | Registered));
        }
    }

    /// <summary>
    /// Sets <paramref name="fd"/>'s bits to what it is now: a set's name or nothing. Called for an
    /// fd just created, adopted, closed or replaced, which no set has registered under this number yet.
    /// A private mark stays: the runtime may have taken the number since a close.
    /// </summary>
    public static void Refresh(int fd)
    {
        if (!Covers(fd))
            return;
        lock (s_lock)
        {
            bool named = EpollNames.Find(fd) is not null;
            if (named)
                Cover(fd);
            Volatile.Write(ref s_table[fd], (byte)((s_table[fd] & Private) | (named ? NamesSet : 0)));
        }
    }

    /// <summary>
    /// The fds in [<paramref name="first"/>, <paramref name="last"/>] that name a set or were
    /// added to one: only those up to the watermark are read, so a huge range costs nothing more.
    /// </summary>
    public static List<int> Concerned(uint first, uint last)
    {
        var found = new List<int>();
        if (s_table is null)
            return found;
        long top = System.Math.Min(last, (long)Volatile.Read(ref *s_highest));
        for (long fd = first; fd <= top && (nuint)fd < s_length; fd++)
        {
            if ((Volatile.Read(ref s_table[fd]) & (NamesSet | Registered)) != 0)
                found.Add((int)fd);
        }
        return found;
    }

    private static bool Covers(int fd) => s_table is not null && (nuint)(uint)fd < s_length;

    // Raises the watermark to fd before fd's bits are written, so that no fd above the watermark
    // ever has bits for close_range to miss. The shim raises it too, with a compare-and-swap of its own.
    private static void Cover(int fd)
    {
        int seen = Volatile.Read(ref *s_highest);
        while (fd > seen)
        {
            int previous = Interlocked.CompareExchange(ref *s_highest, fd, seen);
            if (previous == seen)
                return;
            seen = previous;
        }
    }
}
