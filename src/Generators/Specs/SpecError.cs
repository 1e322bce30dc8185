using Microsoft.CodeAnalysis;

namespace EpollGen.Generators;

/// <summary>One reason a spec is invalid, where it was found, and the message arguments.</summary>
/// <remarks>Holds a <see cref="Location"/>, so it never enters a generator pipeline step.</remarks>
internal sealed class SpecError
{
    public SpecError(SpecErrorKind kind, Location? location, params string[] arguments)
    {
        Kind = kind;
        Location = location;
        Arguments = arguments;
    }

    public SpecErrorKind Kind { get; }

    public Location? Location { get; }

    public string[] Arguments { get; }

    public string Id => "EPG" + ((int)Kind).ToString("0000", System.Globalization.CultureInfo.InvariantCulture);
}
