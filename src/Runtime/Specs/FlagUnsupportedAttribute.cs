using System;

namespace EpollGen;

/// <summary>
/// Marks a source flag that cannot be honoured through this map. The generated
/// <c>GetUnsupportedReason</c> returns <see cref="Reason"/>, and the analyzer quotes it where the
/// flag is used.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = true, Inherited = false)]
public sealed class FlagUnsupportedAttribute : Attribute
{
    /// <summary>Marks <paramref name="source"/> as unsupported, for <paramref name="reason"/>.</summary>
    /// <param name="source">A single-bit member of the map's source enum.</param>
    /// <param name="reason">One sentence a user can act on.</param>
    public FlagUnsupportedAttribute(object source, string reason)
    {
        Source = source;
        Reason = reason;
    }

    /// <summary>The source flag.</summary>
    public object Source { get; }

    /// <summary>Why the flag cannot be honoured.</summary>
    public string Reason { get; }
}
