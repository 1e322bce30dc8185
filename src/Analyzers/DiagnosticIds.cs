namespace EpollGen.Analyzers;

/// <summary>
/// Every diagnostic id EpollGen reports. Ranges (docs/diagnostics/README.md is the one place that
/// documents them for users):
/// EPG0001–EPG0099 spec rules, one per reason the generator skips a spec (numbered as
/// <c>SpecErrorKind</c>); EPG0100–EPG0199 epoll usage rules; EPG0200–EPG0299 interop rules.
/// </summary>
internal static class DiagnosticIds
{
    public const string TargetNotPartial = "EPG0001";
    public const string TargetGeneric = "EPG0002";
    public const string FlagEnumWithoutFlags = "EPG0003";
    public const string FlagValueNotMember = "EPG0004";
    public const string FlagValueNotSingleBit = "EPG0005";
    public const string FlagOverlap = "EPG0006";
    public const string FlagAlwaysReportedNotMapped = "EPG0007";
    public const string NativeFieldTypeNotFixed = "EPG0010";
    public const string NativeSizeMismatch = "EPG0011";
    public const string NativeFieldDuplicate = "EPG0012";
    public const string NativeOverlayInvalid = "EPG0013";
    public const string NativeFlexibleArrayNotLast = "EPG0014";
    public const string NativeStructEmpty = "EPG0015";
    public const string NativeNameInvalid = "EPG0016";
    public const string NativeStructModifiers = "EPG0017";
    public const string NativeStructNeedsUnsafe = "EPG0018";

    public const string LevelTriggeredRegistration = "EPG0100";
    public const string UnsupportedEpollFlag = "EPG0101";
    public const string EpollFlagRejected = "EPG0102";
    public const string InvalidControlOperation = "EPG0103";
    public const string NonPositiveMaxEvents = "EPG0104";
    public const string NegativeTimeout = "EPG0105";
    public const string SetAddedToItself = "EPG0106";
    public const string AddRetriedAfterExists = "EPG0107";
    public const string NegativeTimeSpanTimeout = "EPG0108";

    public const string HandWrittenEpollEvent = "EPG0200";
}
