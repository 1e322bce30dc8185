using System;
using System.Collections.Generic;
using System.Threading;

namespace EpollGen;

/// <summary>
/// One set's place in the graph of sets registered in sets, which decides Linux's ELOOP for an
/// ADD (cycles, and chains of more than EP_MAX_NESTS links) whatever the sets' tap backends.
/// </summary>
internal sealed class SetNesting(EpollSet owner)
{
    // EP_MAX_NESTS: at most this many links in a chain of nested sets.
    private const int MaxNests = 4;

    // Guards every set's _children and _parents: the graph the ELOOP check walks.
    private static readonly Lock s_graphLock = new();

    // The sets registered in this one and those this one is registered in, one entry per
    // registration; guarded by s_graphLock.
    private readonly List<SetNesting> _children = [];
    private readonly List<SetNesting> _parents = [];
    // _parents.Count, written under s_graphLock and read without it (IsPolled).
    private int _parentCount;

    /// <summary>
    /// Whether a set holds a registration of this one. Read on every wait that counted a wake-up,
    /// so it reads a count kept beside the parents rather than take the graph's global lock.
    /// </summary>
    public bool IsPolled => Volatile.Read(ref _parentCount) > 0;

    /// <summary>
    /// ep_loop_check: the link into → target must not close a cycle, and the longest chain through
    /// it must have at most EP_MAX_NESTS links (more than 5 sets).
    /// </summary>
    public static bool CanNest(SetNesting into, SetNesting target)
    {
        lock (s_graphLock)
        {
            int below = DepthBelow(target, into, 0);
            return below <= MaxNests && below + 1 + DepthAbove(into) <= MaxNests;
        }
    }

    /// <summary>Records one registration of <paramref name="target"/> in this set.</summary>
    public void Link(SetNesting target)
    {
        lock (s_graphLock)
        {
            _children.Add(target);
            target._parents.Add(this);
            Volatile.Write(ref target._parentCount, target._parents.Count);
        }
    }

    /// <summary>Forgets one registration of <paramref name="target"/> in this set.</summary>
    public void Unlink(SetNesting target)
    {
        lock (s_graphLock)
        {
            _children.Remove(target);
            target._parents.Remove(this);
            Volatile.Write(ref target._parentCount, target._parents.Count);
        }
    }

    /// <summary>
    /// The set is closed: it no longer counts as a link below the sets it was registered in, which
    /// are returned (their entries of it stay until removed, unlike Linux's).
    /// </summary>
    public EpollSet[] LeaveParents()
    {
        lock (s_graphLock)
        {
            EpollSet[] parents = Array.ConvertAll(_parents.ToArray(), parent => parent.Owner);
            foreach (SetNesting parent in _parents)
                parent._children.RemoveAll(child => child == this);
            _parents.Clear();
            Volatile.Write(ref _parentCount, 0);
            return parents;
        }
    }

    private EpollSet Owner { get; } = owner;

    // Links below set (ep_loop_check_proc); MaxNests + 1 when a path reaches into or runs too deep.
    private static int DepthBelow(SetNesting set, SetNesting into, int depth)
    {
        int result = 0;
        foreach (SetNesting child in set._children)
        {
            result = child == into || depth > MaxNests ? MaxNests + 1 : Math.Max(result, DepthBelow(child, into, depth + 1) + 1);
            if (result > MaxNests)
                break;
        }
        return result;
    }

    // Links above set (ep_get_upwards_depth_proc).
    private static int DepthAbove(SetNesting set)
    {
        int result = 0;
        foreach (SetNesting parent in set._parents)
            result = Math.Max(result, DepthAbove(parent) + 1);
        return result;
    }
}
