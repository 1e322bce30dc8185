namespace EpollGen.Generators.Common;

/// <summary>Names of the tracked pipeline steps, which incrementality tests look up.</summary>
internal static class TrackingNames
{
    public const string FlagMapSpecs = nameof(FlagMapSpecs);
    public const string FlagMapValid = nameof(FlagMapValid);
    public const string NativeStructSpecs = nameof(NativeStructSpecs);
    public const string NativeStructValid = nameof(NativeStructValid);
    public const string AllowUnsafe = nameof(AllowUnsafe);
    public const string TablesAvailable = nameof(TablesAvailable);
    public const string NativeStructOutput = nameof(NativeStructOutput);
}
