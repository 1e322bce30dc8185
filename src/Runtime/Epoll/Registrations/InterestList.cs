using System;
using System.Collections.Generic;
using System.Threading;
using EpollGen.Events;

namespace EpollGen;

/// <summary>
/// A set's registrations, found by fd while their fd names their file and by id once they are
/// orphans (their fd closed while the file stays open elsewhere); guarded by the set's lock.
/// </summary>
internal sealed class InterestList
{
    private Registration?[] _byFd = new Registration?[64];
    private int _count;

    /// <summary>
    /// Registrations whose fd was closed while its file stayed open elsewhere: Linux keeps them,
    /// keyed by (fd, file), reporting until the file is released.
    /// </summary>
    public List<Registration> Orphans { get; } = [];

    /// <summary>How many registrations there are, orphans included; read without the lock.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Every slot of the table by fd, for a close of the set.</summary>
    public Registration?[] ByFd => _byFd;

    public Registration? Find(int fd) => fd < _byFd.Length ? _byFd[fd] : null;

    // A loop, not List.Find with a lambda: the lambda's closure would be allocated on every message.
    public Registration? FindOrphan(CeqId id)
    {
        foreach (Registration orphan in Orphans)
        {
            if (orphan.Id == id)
                return orphan;
        }
        return null;
    }

    /// <summary>A new registration, found by its fd.</summary>
    public void Add(Registration registration)
    {
        int fd = registration.Fd;
        if (fd >= _byFd.Length)
            Array.Resize(ref _byFd, Math.Max(_byFd.Length * 2, fd + 1));
        _byFd[fd] = registration;
        Volatile.Write(ref _count, _count + 1);
    }

    /// <summary>A removed registration, by its fd: it is no longer found or counted.</summary>
    public void Remove(Registration registration)
    {
        _byFd[registration.Fd] = null;
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>A released orphan: it is no longer found or counted.</summary>
    public void RemoveOrphan(Registration orphan)
    {
        Orphans.Remove(orphan);
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>The registration's fd no longer names its file, which lives on: it reports on as an orphan.</summary>
    public void Orphan(Registration registration)
    {
        _byFd[registration.Fd] = null;
        registration.Orphaned = true;
        Orphans.Add(registration);
    }

    /// <summary>The orphan's file is named by <paramref name="fd"/> again: found by it as before.</summary>
    public void Adopt(Registration orphan, int fd)
    {
        Orphans.Remove(orphan);
        orphan.Orphaned = false;
        _byFd[fd] = orphan;
    }
}
