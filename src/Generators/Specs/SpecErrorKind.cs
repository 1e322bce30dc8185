namespace EpollGen.Generators;

/// <summary>
/// Every reason a spec is invalid. The generator skips such a spec silently; the analyzer reports
/// each kind under its own id. Ids EPG0001–EPG0099 are reserved for spec rules.
/// </summary>
internal enum SpecErrorKind
{
    /// <summary>EPG0001: the target, or a type containing it, is not declared <c>partial</c>.</summary>
    TargetNotPartial = 1,

    /// <summary>EPG0002: the target, or a type containing it, is generic.</summary>
    TargetGeneric = 2,

    /// <summary>EPG0003: a flag map names a type that is not an enum marked <c>[Flags]</c>.</summary>
    FlagEnumWithoutFlags = 3,

    /// <summary>EPG0004: a flag map value is not a declared member of the enum it must come from.</summary>
    FlagValueNotMember = 4,

    /// <summary>EPG0005: a pair, mode or unsupported entry is not exactly one bit.</summary>
    FlagValueNotSingleBit = 5,

    /// <summary>EPG0006: a bit is mapped twice, or is both mapped and a mode or unsupported.</summary>
    FlagOverlap = 6,

    /// <summary>EPG0007: an always-reported bit is not a mapped source bit.</summary>
    FlagAlwaysReportedNotMapped = 7,

    /// <summary>EPG0010: a native field's C type has no fixed size on LP64 Linux.</summary>
    NativeFieldTypeNotFixed = 10,

    /// <summary>EPG0011: a declared struct size disagrees with the computed layout.</summary>
    NativeSizeMismatch = 11,

    /// <summary>EPG0012: two native fields share a name.</summary>
    NativeFieldDuplicate = 12,

    /// <summary>EPG0013: an overlay names no earlier field, or does not fit inside it.</summary>
    NativeOverlayInvalid = 13,

    /// <summary>EPG0014: a flexible array member is not the last field.</summary>
    NativeFlexibleArrayNotLast = 14,

    /// <summary>EPG0015: a native struct spec declares no fields.</summary>
    NativeStructEmpty = 15,

    /// <summary>EPG0016: a C name is not a C identifier, or is a name the generated code reserves.</summary>
    NativeNameInvalid = 16,

    /// <summary>EPG0017: a native struct target is <c>readonly</c> or a <c>ref struct</c>.</summary>
    NativeStructModifiers = 17,

    /// <summary>
    /// EPG0018: a native struct spec in a compilation without <c>AllowUnsafeBlocks</c>, whose generated
    /// code could not compile. A compilation option, so the analyzer finds it, never the reader.
    /// </summary>
    NativeStructNeedsUnsafe = 18,
}
