using EpollGen.Analyzers.Epoll;
using EpollGen.Analyzers.Interop;
using EpollGen.Analyzers.Specs;
using EpollGen.Analyzers.Tests.Infrastructure;
using EpollGen.Generators;
using Microsoft.CodeAnalysis;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>Ids, release tracking and documentation stay in step with the shared reader's reasons.</summary>
public sealed class DescriptorTests
{
    private static readonly DiagnosticDescriptor[] All =
        new SpecAnalyzer().SupportedDiagnostics
            .Concat(new EpollUsageAnalyzer().SupportedDiagnostics)
            .Concat(new HandWrittenEpollEventAnalyzer().SupportedDiagnostics)
            .ToArray();

    [Fact]
    public void EverySpecErrorKind_HasADescriptorUnderItsOwnId()
    {
        foreach (SpecErrorKind kind in Enum.GetValues<SpecErrorKind>())
        {
            Assert.True(DiagnosticDescriptors.Spec.TryGetValue(kind, out DiagnosticDescriptor? descriptor), $"{kind} has no descriptor");
            Assert.Equal(new SpecError(kind, null).Id, descriptor!.Id);
        }
        Assert.Equal(Enum.GetValues<SpecErrorKind>().Length, new SpecAnalyzer().SupportedDiagnostics.Length);
    }

    [Fact]
    public void Ids_AreUniqueAndInTheirRanges()
    {
        Assert.Equal(All.Length, All.Select(d => d.Id).Distinct().Count());
        foreach (DiagnosticDescriptor d in new SpecAnalyzer().SupportedDiagnostics)
            Assert.InRange(int.Parse(d.Id.AsSpan(3)), 1, 99);
        foreach (DiagnosticDescriptor d in new EpollUsageAnalyzer().SupportedDiagnostics)
            Assert.InRange(int.Parse(d.Id.AsSpan(3)), 100, 199);
        foreach (DiagnosticDescriptor d in new HandWrittenEpollEventAnalyzer().SupportedDiagnostics)
            Assert.InRange(int.Parse(d.Id.AsSpan(3)), 200, 299);
    }

    [Fact]
    public void Descriptors_FollowTheHouseRules()
    {
        string[] categories = ["Usage", "Interoperability", "Reliability", "Performance", "Design"];
        foreach (DiagnosticDescriptor d in All)
        {
            Assert.Contains(d.Category, categories);
            Assert.True(d.IsEnabledByDefault, d.Id);
            Assert.False(d.Title.ToString().EndsWith('.'), d.Id);
            Assert.False(d.MessageFormat.ToString().EndsWith('.'), d.Id);
            Assert.False(string.IsNullOrWhiteSpace(d.Description.ToString()), d.Id);
        }
    }

    /// <summary>
    /// The IDE opens a help link only when it is absolute: the default base (EpollGenHelpLinkBase, the
    /// repository's docs/diagnostics on GitHub) followed by the rule's page.
    /// </summary>
    [Fact]
    public void HelpLinks_AreAbsoluteAndEndInTheRulesPage()
    {
        foreach (DiagnosticDescriptor d in All)
        {
            Assert.True(Uri.IsWellFormedUriString(d.HelpLinkUri, UriKind.Absolute), $"{d.Id}: '{d.HelpLinkUri}' is not an absolute URI");
            Assert.StartsWith("https://", d.HelpLinkUri);
            Assert.EndsWith($"/docs/diagnostics/{d.Id}.md", d.HelpLinkUri);
        }
    }

    /// <summary>Built without a help link base, a rule still names its page, in its description.</summary>
    [Fact]
    public void Descriptions_NameTheRulesPage()
    {
        foreach (DiagnosticDescriptor d in All)
            Assert.Contains($"docs/diagnostics/{d.Id}.md", d.Description.ToString());
    }

    [Theory]
    [InlineData("https://example.org/epg/", "https://example.org/epg/EPG0001.md")]
    [InlineData("https://example.org/epg", "https://example.org/epg/EPG0001.md")]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void HelpLink_JoinsTheBaseAndThePage_OrIsNoneWithoutABase(string? linkBase, string? expected) =>
        Assert.Equal(expected, HelpLinks.For(linkBase, "EPG0001"));

    [Fact]
    public void DiagnosticsIndex_SaysHowTheHelpLinkBaseIsSet()
    {
        string index = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "diagnostics", "README.md"));
        Assert.Contains("EpollGenHelpLinkBase", index);
        Assert.Contains("-p:EpollGenHelpLinkBase=", index);
    }

    [Fact]
    public void EveryRule_HasADocsPageWithEverySection()
    {
        foreach (DiagnosticDescriptor d in All)
        {
            string page = Path.Combine(TestPaths.RepositoryRoot, "docs", "diagnostics", d.Id + ".md");
            Assert.True(File.Exists(page), $"missing {page}");
            string text = File.ReadAllText(page);
            Assert.StartsWith($"# {d.Id}: {d.Title}", text);
            Assert.Contains($"Default severity: {d.DefaultSeverity}", text);
            foreach (string section in new[] { "## What it means", "## Why", "## How to fix", "## How to suppress", "## Example" })
                Assert.True(text.Contains(section, StringComparison.Ordinal), $"{d.Id}: no '{section}'");
            Assert.Contains($"dotnet_diagnostic.{d.Id}.severity", text);
        }
    }

    /// <summary>Rules are warnings, except EPG0100: level-triggered registrations are correct, only costlier.</summary>
    [Fact]
    public void DefaultSeverities_AreWarnings_ButLevelTriggeredIsASuggestion()
    {
        foreach (DiagnosticDescriptor d in All)
            Assert.Equal(d.Id == DiagnosticIds.LevelTriggeredRegistration ? DiagnosticSeverity.Info : DiagnosticSeverity.Warning, d.DefaultSeverity);
    }

    [Fact]
    public void ReleaseTrackingAndIndex_ListEveryRule()
    {
        string unshipped = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "src", "Analyzers", "AnalyzerReleases.Unshipped.md"));
        string index = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "diagnostics", "README.md"));
        foreach (DiagnosticDescriptor d in All)
        {
            Assert.Contains($"{d.Id} | {d.Category} | {d.DefaultSeverity} |", unshipped);
            Assert.Contains($"[{d.Id}]({d.Id}.md)", index);
        }
    }
}
