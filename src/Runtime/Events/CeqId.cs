using System;

namespace EpollGen.Events;

/// <summary>
/// A CEQ id: a slot (22 bits) and the generation of that slot (10 bits). Freeing an id bumps its
/// slot's generation, so a post or message carrying the old id never reaches the slot's next user.
/// </summary>
public readonly record struct CeqId(uint Value)
{
    /// <summary>Bits of the slot number.</summary>
    public const int SlotBits = 22;

    /// <summary>The number of slots a CEQ can have.</summary>
    public const int MaxSlots = 1 << SlotBits;

    internal const uint GenerationMask = (1u << (32 - SlotBits)) - 1;

    internal CeqId(int slot, uint generation)
        : this((generation & GenerationMask) << SlotBits | (uint)slot)
    {
    }

    /// <summary>The slot: an index into the CEQ's event array.</summary>
    public int Slot => (int)(Value & (MaxSlots - 1));

    /// <summary>Which use of the slot this id names.</summary>
    public uint Generation => Value >> SlotBits;

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"{Slot}.{Generation}");
}
