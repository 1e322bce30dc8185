using System;

namespace EpollGen;

/// <summary>Maps one source flag to one target flag of the enclosing <see cref="FlagMapAttribute"/>.</summary>
/// <remarks>Both values must be declared single-bit members of their enums, and each bit may be paired once.</remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = true, Inherited = false)]
public sealed class FlagPairAttribute : Attribute
{
    /// <summary>Maps <paramref name="source"/> to <paramref name="target"/>.</summary>
    /// <param name="source">A member of the map's source enum.</param>
    /// <param name="target">A member of the map's target enum.</param>
    public FlagPairAttribute(object source, object target)
    {
        Source = source;
        Target = target;
    }

    /// <summary>The source flag.</summary>
    public object Source { get; }

    /// <summary>The target flag.</summary>
    public object Target { get; }
}
