using Microsoft.CodeAnalysis;

namespace EpollGen.Generators;

/// <summary>
/// Metadata names of the spec attributes in EpollGen's runtime. The generator matches them by name
/// and never references the runtime assembly.
/// </summary>
internal static class SpecNames
{
    public const string Namespace = "EpollGen";
    public const string FlagMapAttribute = "EpollGen.FlagMapAttribute";
    public const string FlagPairAttribute = "FlagPairAttribute";
    public const string FlagModeAttribute = "FlagModeAttribute";
    public const string FlagUnsupportedAttribute = "FlagUnsupportedAttribute";
    public const string NativeStructAttribute = "EpollGen.NativeStructAttribute";
    public const string NativeFieldAttribute = "NativeFieldAttribute";

    /// <summary>True when <paramref name="attribute"/> is EpollGen's attribute of that simple name.</summary>
    public static bool Is(AttributeData attribute, string simpleName) =>
        attribute.AttributeClass is { } type
        && type.Name == simpleName
        && type.ContainingNamespace is { Name: Namespace } ns
        && ns.ContainingNamespace is { IsGlobalNamespace: true };

    /// <summary>The location of an attribute application, for reporting.</summary>
    public static Location? LocationOf(AttributeData attribute) =>
        attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation();
}
