using System.Collections.Generic;
using System.Collections.Immutable;
using EpollGen.Generators;
using Microsoft.CodeAnalysis;

namespace EpollGen.Analyzers;

/// <summary>
/// One descriptor per rule, each linking its page (<see cref="HelpLinks"/>). Spec rules are keyed by the shared reader's <see cref="SpecErrorKind"/>,
/// so the reader's message arguments and the formats below are kept side by side.
/// </summary>
internal static class DiagnosticDescriptors
{
    // Standard categories, so `dotnet_analyzer_diagnostic.category-Usage.severity` works.
    private const string Usage = "Usage";
    private const string Interoperability = "Interoperability";
    private const string Reliability = "Reliability";
    private const string Performance = "Performance";

    /// <summary>EPG0001. Argument: the target's simple name.</summary>
    public static readonly DiagnosticDescriptor TargetNotPartial = new(
        DiagnosticIds.TargetNotPartial,
        title: "Spec target is not partial",
        messageFormat: "'{0}' carries an EpollGen spec but it, or a type containing it, is not declared partial; nothing is generated for it",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.TargetNotPartial, "The generator adds members to the type a spec is written on, so that type and every type containing it must be declared partial in all of their declarations."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.TargetNotPartial));

    /// <summary>EPG0002. Argument: the target's simple name.</summary>
    public static readonly DiagnosticDescriptor TargetGeneric = new(
        DiagnosticIds.TargetGeneric,
        title: "Spec target is generic",
        messageFormat: "'{0}' carries an EpollGen spec but it, or a type containing it, is generic; nothing is generated for it",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.TargetGeneric, "Spec attributes cannot name type parameters, so a spec target and the types containing it must not be generic."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.TargetGeneric));

    /// <summary>EPG0003. Argument: the type named by typeof(...).</summary>
    public static readonly DiagnosticDescriptor FlagEnumWithoutFlags = new(
        DiagnosticIds.FlagEnumWithoutFlags,
        title: "Flag map names a type that is not a [Flags] enum",
        messageFormat: "'{0}' is not an enum marked [Flags]; the flag map is not generated",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.FlagEnumWithoutFlags, "Both types of a [FlagMap] must be enums marked [Flags], whose members are bits."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.FlagEnumWithoutFlags));

    /// <summary>EPG0004. Arguments: the value as written, the enum it must belong to.</summary>
    public static readonly DiagnosticDescriptor FlagValueNotMember = new(
        DiagnosticIds.FlagValueNotMember,
        title: "Flag map value is not a member of its enum",
        messageFormat: "'{0}' is not a declared member of '{1}'; the flag map is not generated",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.FlagValueNotMember, "Every value in a [FlagPair], [FlagMode], [FlagUnsupported] or AlwaysReported must be made of declared members of the enum it comes from."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.FlagValueNotMember));

    /// <summary>EPG0005. Argument: the value as written.</summary>
    public static readonly DiagnosticDescriptor FlagValueNotSingleBit = new(
        DiagnosticIds.FlagValueNotSingleBit,
        title: "Flag map value is not a single bit",
        messageFormat: "'{0}' is not exactly one bit; the flag map is not generated",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.FlagValueNotSingleBit, "A pair, mode or unsupported entry relates one bit, so its value must be a member with exactly one bit set."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.FlagValueNotSingleBit));

    /// <summary>EPG0006. Arguments: the bit in C spelling, the enum.</summary>
    public static readonly DiagnosticDescriptor FlagOverlap = new(
        DiagnosticIds.FlagOverlap,
        title: "Flag bit is mapped twice",
        messageFormat: "'{0}' of '{1}' already has a role in this flag map; the flag map is not generated",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.FlagOverlap, "A bit is paired at most once on each side, and a source bit is paired, a mode or unsupported, never two of these."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.FlagOverlap));

    /// <summary>EPG0007. Argument: the unmapped bits in C spelling.</summary>
    public static readonly DiagnosticDescriptor FlagAlwaysReportedNotMapped = new(
        DiagnosticIds.FlagAlwaysReportedNotMapped,
        title: "Always-reported flag is not mapped",
        messageFormat: "AlwaysReported includes '{0}', which no [FlagPair] maps; the flag map is not generated",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.FlagAlwaysReportedNotMapped, "Bits that are always reported must be translatable, so each must be the source of a [FlagPair]."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.FlagAlwaysReportedNotMapped));

    /// <summary>EPG0010. Arguments: the C type, the field name.</summary>
    public static readonly DiagnosticDescriptor NativeFieldTypeNotFixed = new(
        DiagnosticIds.NativeFieldTypeNotFixed,
        title: "Native field type has no fixed size",
        messageFormat: "C type '{0}' of field '{1}' has no fixed size on LP64 Linux; the struct is not generated",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeFieldTypeNotFixed, "Native fields must be fixed-size scalars, pointers or arrays of them, laid out as on LP64 Linux; structs by value, void, long double and unknown typedefs are not."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeFieldTypeNotFixed));

    /// <summary>EPG0011. Arguments: the C struct tag, "Size" or "X64Size", the declared size, the computed size.</summary>
    public static readonly DiagnosticDescriptor NativeSizeMismatch = new(
        DiagnosticIds.NativeSizeMismatch,
        title: "Declared native struct size disagrees with the layout",
        messageFormat: "struct {0} declares {1} = {2} but its fields lay out to {3} bytes; the struct is not generated",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeSizeMismatch, "A declared Size or X64Size is a check against the C header; when the computed layout disagrees, a field or the packing is wrong."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeSizeMismatch));

    /// <summary>EPG0012. Arguments: the field name, the C struct tag.</summary>
    public static readonly DiagnosticDescriptor NativeFieldDuplicate = new(
        DiagnosticIds.NativeFieldDuplicate,
        title: "Native field declared twice",
        messageFormat: "Field '{0}' is declared more than once in struct {1}; the struct is not generated",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeFieldDuplicate, "Each native field becomes a C# field of the same name, so names must be unique."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeFieldDuplicate));

    /// <summary>EPG0013. Arguments: the field name, the field it overlays.</summary>
    public static readonly DiagnosticDescriptor NativeOverlayInvalid = new(
        DiagnosticIds.NativeOverlayInvalid,
        title: "Native overlay does not fit its host field",
        messageFormat: "Field '{0}' overlays '{1}', which is not an earlier plain field it fits inside; the struct is not generated",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeOverlayInvalid, "An overlay is a union member: it must name an earlier field that is itself no overlay and no flexible array, and fit inside it without a larger alignment."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeOverlayInvalid));

    /// <summary>EPG0014. Arguments: the flexible array's name, the C struct tag.</summary>
    public static readonly DiagnosticDescriptor NativeFlexibleArrayNotLast = new(
        DiagnosticIds.NativeFlexibleArrayNotLast,
        title: "Flexible array member is not last",
        messageFormat: "Flexible array member '{0}' must be the last field of struct {1}; the struct is not generated",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeFlexibleArrayNotLast, "A flexible array member T[] has no storage and runs to the end of the record, so it must come last, as in C."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeFlexibleArrayNotLast));

    /// <summary>EPG0015. Argument: the C struct tag.</summary>
    public static readonly DiagnosticDescriptor NativeStructEmpty = new(
        DiagnosticIds.NativeStructEmpty,
        title: "Native struct has no fields",
        messageFormat: "struct {0} declares no field with storage; the struct is not generated",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeStructEmpty, "A native struct needs at least one [NativeField] that is not a flexible array member."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeStructEmpty));

    /// <summary>EPG0016. Argument: the offending name.</summary>
    public static readonly DiagnosticDescriptor NativeNameInvalid = new(
        DiagnosticIds.NativeNameInvalid,
        title: "Native name is not usable",
        messageFormat: "'{0}' is not a C identifier, or is a name the generated code reserves; the struct is not generated",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeNameInvalid, "Struct tags and field names must be C identifiers, and field names may not take the names of members the generator adds (Size, Offsets, CheckLayout, …) or of the struct itself."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeNameInvalid));

    /// <summary>EPG0017. Argument: the target's simple name.</summary>
    public static readonly DiagnosticDescriptor NativeStructModifiers = new(
        DiagnosticIds.NativeStructModifiers,
        title: "Native struct is readonly or a ref struct",
        messageFormat: "Native struct '{0}' must be a plain struct, not readonly or a ref struct; it is not generated",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeStructModifiers, "Generated native structs have writable fields and are stored in native arrays, so the target can be neither readonly nor a ref struct."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeStructModifiers));

    /// <summary>EPG0018. Argument: the target's simple name.</summary>
    public static readonly DiagnosticDescriptor NativeStructNeedsUnsafe = new(
        DiagnosticIds.NativeStructNeedsUnsafe,
        title: "Native struct needs AllowUnsafeBlocks",
        messageFormat: "Native struct '{0}' generates unsafe code but the project does not allow unsafe blocks; set <AllowUnsafeBlocks>true</AllowUnsafeBlocks>",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NativeStructNeedsUnsafe, "Generated native structs use pointers and fixed buffers, so the generator only emits them in projects with AllowUnsafeBlocks."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NativeStructNeedsUnsafe));

    /// <summary>Spec rules, by the reader's reason.</summary>
    public static readonly IReadOnlyDictionary<SpecErrorKind, DiagnosticDescriptor> Spec = new Dictionary<SpecErrorKind, DiagnosticDescriptor>
    {
        [SpecErrorKind.TargetNotPartial] = TargetNotPartial,
        [SpecErrorKind.TargetGeneric] = TargetGeneric,
        [SpecErrorKind.FlagEnumWithoutFlags] = FlagEnumWithoutFlags,
        [SpecErrorKind.FlagValueNotMember] = FlagValueNotMember,
        [SpecErrorKind.FlagValueNotSingleBit] = FlagValueNotSingleBit,
        [SpecErrorKind.FlagOverlap] = FlagOverlap,
        [SpecErrorKind.FlagAlwaysReportedNotMapped] = FlagAlwaysReportedNotMapped,
        [SpecErrorKind.NativeFieldTypeNotFixed] = NativeFieldTypeNotFixed,
        [SpecErrorKind.NativeSizeMismatch] = NativeSizeMismatch,
        [SpecErrorKind.NativeFieldDuplicate] = NativeFieldDuplicate,
        [SpecErrorKind.NativeOverlayInvalid] = NativeOverlayInvalid,
        [SpecErrorKind.NativeFlexibleArrayNotLast] = NativeFlexibleArrayNotLast,
        [SpecErrorKind.NativeStructEmpty] = NativeStructEmpty,
        [SpecErrorKind.NativeNameInvalid] = NativeNameInvalid,
        [SpecErrorKind.NativeStructModifiers] = NativeStructModifiers,
        [SpecErrorKind.NativeStructNeedsUnsafe] = NativeStructNeedsUnsafe,
    };

    /// <summary>
    /// EPG0100. Arguments: the mask in C spelling, the edge-triggered flag. A suggestion, not a warning:
    /// level-triggered use is correct, only costlier, and code ported from C is full of it.
    /// </summary>
    public static readonly DiagnosticDescriptor LevelTriggeredRegistration = new(
        DiagnosticIds.LevelTriggeredRegistration,
        title: "Level-triggered epoll registration",
        messageFormat: "'{0}' registers level-triggered: every delivery costs a readiness re-check of the fd, which is reported again at each wait while it stays ready; add {1} and, on each event, read or write until EAGAIN",
        category: Performance,
        DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.LevelTriggeredRegistration, "EpollGen's level-triggered registrations are level-triggered in the kernel: the kernel re-checks the readiness of each reported fd at every wait and reports it again while it stays ready. Edge-triggered registrations cost nothing beyond the kernel wait, but must be drained: read or write until EAGAIN on each event. One-shot masks are not reported."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.LevelTriggeredRegistration));

    /// <summary>EPG0101. Arguments: the flag, the reason its flag map gives.</summary>
    public static readonly DiagnosticDescriptor UnsupportedEpollFlag = new(
        DiagnosticIds.UnsupportedEpollFlag,
        title: "Epoll flag that EpollGen cannot honour",
        messageFormat: "'{0}' cannot be honoured: {1}",
        category: Reliability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.UnsupportedEpollFlag, "The runtime's flag map marks some epoll flags [FlagUnsupported], with the reason; a registration asking for one is accepted but never gets what it asks for."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.UnsupportedEpollFlag));

    /// <summary>EPG0102. Arguments: the flag, why epoll_ctl rejects it here.</summary>
    public static readonly DiagnosticDescriptor EpollFlagRejected = new(
        DiagnosticIds.EpollFlagRejected,
        title: "Epoll flag used where epoll_ctl rejects it",
        messageFormat: "'{0}' {1}, so epoll_ctl fails with EINVAL",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.EpollFlagRejected, "Some flags are accepted only by EPOLL_CTL_ADD, only with certain other flags, or not for a target that is itself an epoll set (EPOLLEXCLUSIVE: all three). The runtime's [EpollFlag] attributes say which; Linux and EpollGen reject the call with EINVAL."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.EpollFlagRejected));

    /// <summary>EPG0103. Argument: the operation's value.</summary>
    public static readonly DiagnosticDescriptor InvalidControlOperation = new(
        DiagnosticIds.InvalidControlOperation,
        title: "Invalid epoll_ctl operation",
        messageFormat: "Operation {0} is not EPOLL_CTL_ADD, EPOLL_CTL_DEL or EPOLL_CTL_MOD, so epoll_ctl fails with EINVAL",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.InvalidControlOperation, "epoll_ctl knows three operations, the values of EpollGen.EpollControlOp; any other fails with EINVAL."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.InvalidControlOperation));

    /// <summary>
    /// EPG0104. Arguments: what has no room ("maxevents is 0", "'[]' holds no events"), how the wait
    /// fails ("fails with EINVAL", "throws ArgumentException").
    /// </summary>
    public static readonly DiagnosticDescriptor NonPositiveMaxEvents = new(
        DiagnosticIds.NonPositiveMaxEvents,
        title: "Event buffer capacity is not positive",
        messageFormat: "{0}, so the wait {1} without waiting; give it room for at least one event",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NonPositiveMaxEvents, "epoll_wait, epoll_pwait and epoll_pwait2 fail with EINVAL when maxevents is zero or negative, and EpollSet.Wait and WaitAsync throw ArgumentException when the buffer is empty."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NonPositiveMaxEvents));

    /// <summary>EPG0105. Argument: the value.</summary>
    public static readonly DiagnosticDescriptor NegativeTimeout = new(
        DiagnosticIds.NegativeTimeout,
        title: "Negative timeout other than -1",
        messageFormat: "A timeout of {0} ms waits without limit, as every negative timeout does; pass -1 to wait without limit, or the duration as a positive number of milliseconds",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NegativeTimeout, "Every negative millisecond timeout means no limit, so a constant below -1 is almost always a duration with the wrong sign."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NegativeTimeout));

    /// <summary>EPG0106. Argument: the target as written.</summary>
    public static readonly DiagnosticDescriptor SetAddedToItself = new(
        DiagnosticIds.SetAddedToItself,
        title: "Epoll set added to itself",
        messageFormat: "'{0}' is the set's own fd, and a set cannot watch itself, so epoll_ctl fails with EINVAL",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.SetAddedToItself, "Linux refuses to add an epoll set to itself with EINVAL, and so does EpollGen."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.SetAddedToItself));

    /// <summary>EPG0107. Arguments: the retried call as written, what to use instead.</summary>
    public static readonly DiagnosticDescriptor AddRetriedAfterExists = new(
        DiagnosticIds.AddRetriedAfterExists,
        title: "EPOLL_CTL_ADD retried after EEXIST",
        messageFormat: "'{0}' adds the fd again after EEXIST said it is registered already, and fails with EEXIST again; use {1} to change the registration",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.AddRetriedAfterExists, "EEXIST from an ADD means the fd is in the set already; adding it again fails the same way. Code that wants to update an existing registration uses EPOLL_CTL_MOD."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.AddRetriedAfterExists));

    /// <summary>EPG0108. Argument: the timeout as written.</summary>
    public static readonly DiagnosticDescriptor NegativeTimeSpanTimeout = new(
        DiagnosticIds.NegativeTimeSpanTimeout,
        title: "Negative TimeSpan timeout other than InfiniteTimeSpan",
        messageFormat: "'{0}' is negative but not Timeout.InfiniteTimeSpan, so the wait throws ArgumentOutOfRangeException; pass a positive duration, TimeSpan.Zero to poll, or Timeout.InfiniteTimeSpan to wait without limit",
        category: Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.NegativeTimeSpanTimeout, "EpollSet.Wait and WaitAsync take Timeout.InfiniteTimeSpan (-1 ms), zero or a positive TimeSpan and throw ArgumentOutOfRangeException for any other negative one. A TimeSpan built from constants (TimeSpan.FromSeconds(-1), new TimeSpan(0, 0, -30), TimeSpan.MinValue) is judged."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.NegativeTimeSpanTimeout));

    /// <summary>The epoll usage rules, for <c>SupportedDiagnostics</c>.</summary>
    public static ImmutableArray<DiagnosticDescriptor> AllUsage { get; } = ImmutableArray.Create(
        LevelTriggeredRegistration, UnsupportedEpollFlag, EpollFlagRejected, InvalidControlOperation,
        NonPositiveMaxEvents, NegativeTimeout, SetAddedToItself, AddRetriedAfterExists, NegativeTimeSpanTimeout);

    /// <summary>EPG0200. Arguments: struct name, its size, data offset, the architecture it is wrong on, the kernel's size there, data offset there.</summary>
    public static readonly DiagnosticDescriptor HandWrittenEpollEvent = new(
        DiagnosticIds.HandWrittenEpollEvent,
        title: "Hand-written epoll_event has the wrong layout on some architecture",
        messageFormat: "'{0}' is {1} bytes with its 64-bit field at offset {2}, but on {3} the kernel's struct epoll_event is {4} bytes with data at offset {5}; use the generated EpollGen.Interop.EpollEvent",
        category: Interoperability,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: HelpLinks.Described(DiagnosticIds.HandWrittenEpollEvent, "struct epoll_event is packed to 12 bytes on x86_64 only and is 16 bytes on arm64 and every other Linux architecture, so no single C# layout is right everywhere. EpollGen.Interop.EpollEvent carries both layouts and picks one at run time."),
        helpLinkUri: HelpLinks.For(DiagnosticIds.HandWrittenEpollEvent));

    /// <summary>All spec descriptors, for <c>SupportedDiagnostics</c>.</summary>
    public static ImmutableArray<DiagnosticDescriptor> AllSpec { get; } = ImmutableArray.CreateRange(Spec.Values);
}
