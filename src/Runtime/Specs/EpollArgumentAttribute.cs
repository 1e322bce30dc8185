using System;

namespace EpollGen;

/// <summary>
/// Says what a parameter of an epoll call means, so EpollGen's analyzers can judge constant
/// arguments (a level-triggered mask, an unknown operation, maxevents ≤ 0, …) against the API
/// itself rather than a list kept beside it. Only constant arguments are judged.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class EpollArgumentAttribute : Attribute
{
    /// <summary>Marks a parameter as carrying <paramref name="role"/>.</summary>
    public EpollArgumentAttribute(EpollArgumentRole role) => Role = role;

    /// <summary>What the argument means.</summary>
    public EpollArgumentRole Role { get; }

    /// <summary>
    /// For <see cref="EpollArgumentRole.Target"/> on an instance method: the name of the declaring
    /// type's member that holds the set's own fd. Passing that member of the same instance adds the
    /// set to itself; passing it from any instance targets an epoll set.
    /// </summary>
    public string? SelfFd { get; set; }
}
