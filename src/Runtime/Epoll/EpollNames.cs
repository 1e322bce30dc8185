using System;
using System.Threading;

namespace EpollGen;

/// <summary>
/// The fds that name EpollGen sets in the libc-shaped API. Each name is a dup of the set's kernel
/// epoll fd, so it is a real fd (CLOEXEC as asked, pollable, nestable). Each name holds a reference
/// to its set, as an fd holds its file in Linux, and so does each call in flight that
/// <see cref="Hold"/>s it; the set lives until the last of them goes. Lookups read a published
/// array without a lock; changes take the lock.
/// </summary>
internal static class EpollNames
{
    private static readonly Lock s_lock = new();
    private static EpollSet?[] s_byFd = new EpollSet?[64];
    private static EpollSet[] s_sets = [];
    // Weak: a set used only through EpollSet, and lost without Dispose, must stay collectable.
    private static WeakReference<EpollSet>?[] s_byOwnFd = new WeakReference<EpollSet>?[64];

    public static EpollSet? Find(int fd)
    {
        EpollSet?[] byFd = Volatile.Read(ref s_byFd);
        return (uint)fd < (uint)byFd.Length ? Volatile.Read(ref byFd[fd]) : null;
    }

    /// <summary>
    /// The set <paramref name="fd"/> names, with a reference the caller releases
    /// (<see cref="EpollSet.Release"/>), as Linux's fdget holds the file for one call; null when
    /// <paramref name="fd"/> names no set.
    /// </summary>
    public static EpollSet? Hold(int fd)
    {
        while (Find(fd) is { } set)
        {
            if (set.TryReference())
                return set;
            // The set's last reference went after the lookup, so its names were removed before
            // that: the next lookup sees what the number names now.
        }
        return null;
    }

    /// <summary>
    /// The set <paramref name="fd"/> names, by a libc-shaped name or by the set's own
    /// <see cref="EpollSet.Fd"/>: what the sets' nesting graph is checked on.
    /// </summary>
    public static EpollSet? SetOf(int fd)
    {
        if (Find(fd) is { } named)
            return named;
        WeakReference<EpollSet>?[] own = Volatile.Read(ref s_byOwnFd);
        return (uint)fd < (uint)own.Length && Volatile.Read(ref own[fd]) is { } weak && weak.TryGetTarget(out EpollSet? set) && !set.IsDisposed ? set : null;
    }

    /// <summary>Records the set's own fd, for <see cref="SetOf"/>; until <see cref="Disown"/>.</summary>
    public static void Own(int fd, EpollSet set)
    {
        lock (s_lock)
            Publish(ref s_byOwnFd, fd, new WeakReference<EpollSet>(set));
    }

    /// <summary>Forgets the set's own fd, before it is closed and its number reused.</summary>
    public static void Disown(int fd, EpollSet set)
    {
        lock (s_lock)
        {
            if ((uint)fd < (uint)s_byOwnFd.Length && s_byOwnFd[fd] is { } weak && weak.TryGetTarget(out EpollSet? owner) && owner == set)
                Volatile.Write(ref s_byOwnFd[fd], null);
        }
    }

    /// <summary>
    /// Every set that lives, named or held by a call in flight, for the close of a registered fd:
    /// a set whose names are gone still drops a closed fd's registration, as Linux's does.
    /// </summary>
    public static EpollSet[] Sets => Volatile.Read(ref s_sets);

    /// <summary>
    /// Names <paramref name="set"/> by <paramref name="fd"/>; the name takes over a reference the
    /// caller holds (a new set's own, or one from <see cref="Hold"/>).
    /// </summary>
    public static void Add(int fd, EpollSet set)
    {
        lock (s_lock)
        {
            Publish(ref s_byFd, fd, set);
            if (!set.Listed)
            {
                set.Listed = true;
                Volatile.Write(ref s_sets, [.. s_sets, set]);
            }
        }
    }

    /// <summary>
    /// Forgets the name <paramref name="fd"/> and returns the set it named, or null; the caller
    /// releases the name's reference (<see cref="EpollSet.Release"/>) once the fd is closed.
    /// </summary>
    public static EpollSet? Remove(int fd)
    {
        lock (s_lock)
        {
            if (Find(fd) is not { } set)
                return null;
            Volatile.Write(ref s_byFd[fd], null);
            return set;
        }
    }

    /// <summary>Drops <paramref name="set"/> from <see cref="Sets"/> when its last reference goes.</summary>
    public static void Unlist(EpollSet set)
    {
        lock (s_lock)
        {
            if (set.Listed)
                Volatile.Write(ref s_sets, Array.FindAll(s_sets, s => s != set));
            set.Listed = false;
        }
    }

    // Stores set at table[fd], growing the table first; the caller holds the lock. Readers may still
    // hold the old array after a growth; both arrays name the same sets.
    private static void Publish<T>(ref T?[] table, int fd, T entry)
        where T : class
    {
        T?[] current = table;
        if (fd >= current.Length)
        {
            var grown = new T?[Math.Max(current.Length * 2, fd + 1)];
            current.CopyTo(grown, 0);
            Volatile.Write(ref table, grown);
            current = grown;
        }
        Volatile.Write(ref current[fd], entry);
    }
}
