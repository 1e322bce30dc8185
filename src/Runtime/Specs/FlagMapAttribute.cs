using System;

namespace EpollGen;

/// <summary>
/// Declares the partial type it marks as a translation between two <c>[Flags]</c> enums. EpollGen's
/// generator fills the type with branch-free <c>ToTarget</c>/<c>ToSource</c> translation, constant
/// masks (<c>SourceMapped</c>, <c>SourceModes</c>, <c>SourceUnsupported</c>, <c>SourceAlwaysReported</c>, …),
/// and C-spelling <c>Format</c>/<c>TryParse</c> for both enums.
/// </summary>
/// <remarks>
/// Describe the map with <see cref="FlagPairAttribute"/> (one source bit to one target bit),
/// <see cref="FlagModeAttribute"/> and <see cref="FlagUnsupportedAttribute"/> on the same type. A bit
/// takes at most one of those roles. An invalid map generates nothing and the analyzer says why.
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class FlagMapAttribute : Attribute
{
    /// <summary>Declares a map from <paramref name="source"/> to <paramref name="target"/>.</summary>
    /// <param name="source">The enum translated from; must be marked <c>[Flags]</c>.</param>
    /// <param name="target">The enum translated to; must be marked <c>[Flags]</c>.</param>
    public FlagMapAttribute(Type source, Type target)
    {
        Source = source;
        Target = target;
    }

    /// <summary>The enum translated from.</summary>
    public Type Source { get; }

    /// <summary>The enum translated to.</summary>
    public Type Target { get; }

    /// <summary>
    /// Source bits reported whether or not they were requested (for epoll: <c>EPOLLERR|EPOLLHUP</c>).
    /// A value of the source enum; every bit must be mapped.
    /// </summary>
    public object? AlwaysReported { get; set; }
}
