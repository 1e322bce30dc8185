using EpollGen.Generators.Common;

namespace EpollGen.Generators;

/// <summary>A valid flag map: what the generator emits from. Value-equatable, symbol-free.</summary>
/// <param name="Target">The partial type that receives the generated members.</param>
/// <param name="Source">The enum translated from (epoll events, in the runtime's map).</param>
/// <param name="Destination">The enum translated to (tap filters, in the runtime's map).</param>
/// <param name="Pairs">One source bit to one destination bit, sorted by source bit.</param>
/// <param name="Modes">Source bits that steer behaviour and have no counterpart.</param>
/// <param name="Unsupported">Source bits with no counterpart, and why, sorted by bit.</param>
/// <param name="AlwaysReported">Source bits reported whether or not they were asked for.</param>
internal sealed record FlagMapSpec(
    TypeTarget Target,
    FlagEnum Source,
    FlagEnum Destination,
    EquatableArray<FlagPair> Pairs,
    ulong Modes,
    EquatableArray<UnsupportedFlag> Unsupported,
    ulong AlwaysReported);

/// <summary>A <c>[Flags]</c> enum as the generator needs it.</summary>
/// <param name="TypeName">Fully qualified, with <c>global::</c>.</param>
/// <param name="Name">The simple name, for documentation.</param>
/// <param name="Bits">8, 16, 32 or 64: the width of the underlying type.</param>
/// <param name="Members">Declared members in declaration order; values zero-extended to 64 bits.</param>
internal sealed record FlagEnum(string TypeName, string Name, int Bits, EquatableArray<FlagMember> Members)
{
    /// <summary>Every bit some declared member sets.</summary>
    public ulong Known
    {
        get
        {
            ulong known = 0;
            foreach (FlagMember member in Members)
                known |= member.Value;
            return known;
        }
    }
}

/// <summary>A named enum value.</summary>
internal readonly record struct FlagMember(string Name, ulong Value);

/// <summary>A mapping of one source bit to one destination bit.</summary>
internal readonly record struct FlagPair(ulong Source, ulong Destination);

/// <summary>A source bit that cannot be translated, and the reason the analyzer quotes.</summary>
internal readonly record struct UnsupportedFlag(ulong Bit, string Reason);
