using System;
using System.Threading;

namespace EpollGen;

/// <summary>
/// The fds that name EpollGen sets in the libc-shaped API. Each name is a dup of the set's kernel
/// epoll fd, so it is a real fd (CLOEXEC as asked, pollable, nestable); a set lives until its last
/// name is closed. Lookups read a published array without a lock; changes take the lock.
/// </summary>
internal static class EpollNames
{
    private static readonly Lock s_lock = new();
    private static EpollSet?[] s_byFd = new EpollSet?[64];
    private static EpollSet[] s_sets = [];

    public static EpollSet? Find(int fd)
    {
        EpollSet?[] byFd = Volatile.Read(ref s_byFd);
        return (uint)fd < (uint)byFd.Length ? Volatile.Read(ref byFd[fd]) : null;
    }

    /// <summary>Every set with a name, for the close of a registered fd.</summary>
    public static EpollSet[] Sets => Volatile.Read(ref s_sets);

    public static void Add(int fd, EpollSet set)
    {
        lock (s_lock)
        {
            EpollSet?[] byFd = s_byFd;
            if (fd >= byFd.Length)
            {
                var grown = new EpollSet?[Math.Max(byFd.Length * 2, fd + 1)];
                byFd.CopyTo(grown, 0);
                // Readers may still hold the old array; both name the same sets.
                Volatile.Write(ref s_byFd, grown);
                byFd = grown;
            }
            Volatile.Write(ref byFd[fd], set);
            if (set.Names++ == 0)
                Volatile.Write(ref s_sets, [.. s_sets, set]);
        }
    }

    /// <summary>Forgets the name <paramref name="fd"/>; returns its set when that was its last name.</summary>
    public static EpollSet? Remove(int fd)
    {
        lock (s_lock)
        {
            if (Find(fd) is not { } set)
                return null;
            Volatile.Write(ref s_byFd[fd], null);
            if (--set.Names > 0)
                return null;
            Volatile.Write(ref s_sets, Array.FindAll(s_sets, s => s != set));
            return set;
        }
    }
}
