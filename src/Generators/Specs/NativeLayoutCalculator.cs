using System.Collections.Generic;
using EpollGen.Generators.Common;

namespace EpollGen.Generators;

/// <summary>Lays out fields the way gcc does on LP64 Linux, packed or natural.</summary>
internal static class NativeLayoutCalculator
{
    /// <summary>
    /// Natural: each field at the next multiple of its alignment, the struct aligned to its largest
    /// member and its size rounded up to that. Packed: alignment 1, no padding anywhere.
    /// An overlay takes the offset of the field it overlays (a union member that fits inside it).
    /// A flexible array member adds alignment but no size.
    /// </summary>
    public static NativeLayout Compute(IReadOnlyList<NativeField> fields, bool packed)
    {
        var offsets = new int[fields.Count];
        var byName = new Dictionary<string, int>();
        int offset = 0, alignment = 1;
        for (int i = 0; i < fields.Count; i++)
        {
            NativeField field = fields[i];
            if (field.Overlays is { } overlaid && byName.TryGetValue(overlaid, out int baseIndex))
            {
                offsets[i] = offsets[baseIndex];
                continue;
            }
            int align = packed ? 1 : field.Type.Alignment;
            offset = AlignUp(offset, align);
            offsets[i] = offset;
            offset += field.Type.TotalSize;
            if (align > alignment)
                alignment = align;
            byName[field.Name] = i;
        }
        return new NativeLayout(AlignUp(offset, alignment), alignment, new EquatableArray<int>(offsets));
    }

    private static int AlignUp(int value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
