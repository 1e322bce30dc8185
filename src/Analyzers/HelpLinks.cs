using System.Linq;
using System.Reflection;

namespace EpollGen.Analyzers;

/// <summary>
/// Where each rule's page is: the help link an IDE opens, joined from the base URI the analyzers were
/// built with (the EpollGenHelpLinkBase MSBuild property, stamped into this assembly; see
/// docs/diagnostics/README.md) and the page's name.
/// </summary>
internal static class HelpLinks
{
    /// <summary>The assembly metadata key EpollGen.Analyzers.csproj stamps the base under.</summary>
    public const string MetadataKey = "EpollGenHelpLinkBase";

    /// <summary>The base this assembly was built with; null when it was built without one.</summary>
    public static string? Base { get; } =
        typeof(HelpLinks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == MetadataKey)?.Value;

    /// <summary>The rule page's path in the repository, which every description names, link or not.</summary>
    public static string PagePath(string id) => "docs/diagnostics/" + id + ".md";

    /// <summary>
    /// A rule's description followed by where its page is, so that analyzers built without help links
    /// still say where to read.
    /// </summary>
    public static string Described(string id, string description) => description + " See " + PagePath(id) + " in the EpollGen repository.";

    /// <summary>The help link of rule <paramref name="id"/>, or null when built without a base.</summary>
    public static string? For(string id) => For(Base, id);

    /// <summary>The base, with a slash after it if it has none, and the page's file name; null without a base.</summary>
    public static string? For(string? linkBase, string id) =>
        string.IsNullOrEmpty(linkBase) ? null : linkBase + (linkBase!.EndsWith("/", System.StringComparison.Ordinal) ? "" : "/") + id + ".md";
}
