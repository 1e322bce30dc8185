using System;

namespace EpollGen;

/// <summary>
/// What an epoll event flag means to a registration, on the flag's enum member. The analyzers read
/// it to judge constant masks; the runtime keeps the same rules where it checks masks.
/// </summary>
[AttributeUsage(AttributeTargets.Field, AllowMultiple = false, Inherited = false)]
public sealed class EpollFlagAttribute : Attribute
{
    /// <summary>The flag makes the registration edge-triggered; without it, it is level-triggered.</summary>
    public bool EdgeTriggered { get; set; }

    /// <summary>The flag disarms the registration after one event, until EPOLL_CTL_MOD re-arms it.</summary>
    public bool OneShot { get; set; }

    /// <summary>The flag is accepted by EPOLL_CTL_ADD only; EPOLL_CTL_MOD rejects it with EINVAL.</summary>
    public bool AddOnly { get; set; }

    /// <summary>The flag is rejected with EINVAL when the target fd is itself an epoll set.</summary>
    public bool NotOnEpollSets { get; set; }

    /// <summary>
    /// When set, the only other flags the mask may carry with this one (a value of the flag's enum);
    /// any other flag is rejected with EINVAL.
    /// </summary>
    public object? CompatibleWith { get; set; }
}
