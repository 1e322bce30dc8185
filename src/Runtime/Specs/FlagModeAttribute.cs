using System;

namespace EpollGen;

/// <summary>
/// Marks a source flag as a mode: it steers behaviour (edge-triggered, one-shot, …) and has no
/// counterpart in the target enum, so translation drops it.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = true, Inherited = false)]
public sealed class FlagModeAttribute : Attribute
{
    /// <summary>Marks <paramref name="source"/> as a mode.</summary>
    /// <param name="source">A single-bit member of the map's source enum.</param>
    public FlagModeAttribute(object source) => Source = source;

    /// <summary>The source flag.</summary>
    public object Source { get; }
}
