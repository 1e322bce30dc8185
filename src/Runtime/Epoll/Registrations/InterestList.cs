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

    // Registrations whose fd was closed while its file may stay open elsewhere, by id.
    private readonly Dictionary<uint, Registration> _orphans = [];

    /// <summary>
    /// Registrations whose fd was closed while its file may stay open elsewhere: Linux keeps them,
    /// keyed by (fd, file), reporting until the file is released. A close may leave thousands
    /// here before the backend learns which files went, so they are found by id in constant time.
    /// </summary>
    public Dictionary<uint, Registration>.ValueCollection Orphans => _orphans.Values;

    /// <summary>How many orphans there are.</summary>
    public int OrphanCount => _orphans.Count;

    /// <summary>How many registrations there are, orphans included; read without the lock.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Every slot of the table by fd, for a close of the set.</summary>
    public Registration?[] ByFd => _byFd;

    public Registration? Find(int fd) => fd < _byFd.Length ? _byFd[fd] : null;

    public Registration? FindOrphan(CeqId id) => _orphans.GetValueOrDefault(id.Value);

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
        _orphans.Remove(orphan.Id.Value);
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>The registration's fd no longer names its file, which lives on: it reports on as an orphan.</summary>
    public void Orphan(Registration registration)
    {
        _byFd[registration.Fd] = null;
        registration.Orphaned = true;
        _orphans.Add(registration.Id.Value, registration);
    }

    /// <summary>The orphan's file is named by <paramref name="fd"/> again: found by it as before.</summary>
    public void Adopt(Registration orphan, int fd)
    {
        _orphans.Remove(orphan.Id.Value);
        orphan.Orphaned = false;
        _byFd[fd] = orphan;
    }
}
