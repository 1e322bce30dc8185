using EpollGen.Analyzers.Epoll;
using EpollGen.Analyzers.Interop;
using EpollGen.Analyzers.Specs;
using EpollGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>Severities follow .editorconfig: per id, per category, and the default when nothing is said.</summary>
public sealed class SeverityConfigTests
{
    private const string NoFlagsSpec = SpecRuleTests.Prelude + "[{|#0:FlagMap(typeof(NoFlags), typeof(B))|}] public static partial class Map;";

    private const string HandWritten = """
        using System.Runtime.InteropServices;
        struct Ev { public uint events; public ulong data; }
        static unsafe class Native { [DllImport("libc")] public static extern int epoll_wait(int epfd, {|#0:Ev*|} e, int n, int t); }
        """;

    private const string LevelTriggered = """
        using EpollGen;
        using EpollGen.Interop;
        static class Use { static void Run(EpollSet set, int fd) => set.Add(fd, {|#0:EpollEvents.EPOLLIN|}, 0); }
        """;

    /// <summary>Level-triggered use is correct, only costlier: a suggestion, which no TreatWarningsAsErrors build fails on.</summary>
    [Fact]
    public Task LevelTriggered_DefaultIsInfo() =>
        Run<EpollUsageAnalyzer>(LevelTriggered, config: null, DiagnosticSeverity.Info, DiagnosticIds.LevelTriggeredRegistration);

    [Fact]
    public Task LevelTriggered_SeverityWarning_Raises() =>
        Run<EpollUsageAnalyzer>(LevelTriggered, "dotnet_diagnostic.EPG0100.severity = warning", DiagnosticSeverity.Warning, DiagnosticIds.LevelTriggeredRegistration);

    [Fact]
    public Task LevelTriggered_SeverityNone_Silences() =>
        Run<EpollUsageAnalyzer>(LevelTriggered, "dotnet_diagnostic.EPG0100.severity = none", null, DiagnosticIds.LevelTriggeredRegistration);

    [Fact]
    public Task PerformanceCategory_Escalates_LevelTriggered() =>
        Run<EpollUsageAnalyzer>(LevelTriggered, "dotnet_analyzer_diagnostic.category-Performance.severity = error", DiagnosticSeverity.Error, DiagnosticIds.LevelTriggeredRegistration);

    [Fact]
    public Task Default_IsWarning() => Run(NoFlagsSpec, config: null, DiagnosticSeverity.Warning);

    [Fact]
    public Task SeverityNone_Silences() => Run(NoFlagsSpec, "dotnet_diagnostic.EPG0003.severity = none", expected: null);

    [Fact]
    public Task SeverityError_Escalates() => Run(NoFlagsSpec, "dotnet_diagnostic.EPG0003.severity = error", DiagnosticSeverity.Error);

    [Fact]
    public Task SeveritySuggestion_Lowers() => Run(NoFlagsSpec, "dotnet_diagnostic.EPG0003.severity = suggestion", DiagnosticSeverity.Info);

    [Fact]
    public Task OtherIdsSetting_LeavesThisOneAlone() => Run(NoFlagsSpec, "dotnet_diagnostic.EPG0006.severity = none", DiagnosticSeverity.Warning);

    [Fact]
    public Task UsageCategory_Escalates() =>
        Run(NoFlagsSpec, "dotnet_analyzer_diagnostic.category-Usage.severity = error", DiagnosticSeverity.Error);

    [Fact]
    public Task InteropCategory_Silences_EpollEventRule() =>
        Run<HandWrittenEpollEventAnalyzer>(HandWritten, "dotnet_analyzer_diagnostic.category-Interoperability.severity = none", null, DiagnosticIds.HandWrittenEpollEvent);

    [Fact]
    public Task EpollEventRule_Escalates() =>
        Run<HandWrittenEpollEventAnalyzer>(HandWritten, "dotnet_diagnostic.EPG0200.severity = error", DiagnosticSeverity.Error, DiagnosticIds.HandWrittenEpollEvent);

    private static Task Run(string source, string? config, DiagnosticSeverity? expected) =>
        Run<SpecAnalyzer>(source, config, expected, DiagnosticIds.FlagEnumWithoutFlags);

    private static Task Run<TAnalyzer>(string source, string? config, DiagnosticSeverity? expected, string id)
        where TAnalyzer : Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer, new()
    {
        var test = Verify.Analyzer<TAnalyzer>(source);
        if (config is not null)
            test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", $"root = true\n\n[*.cs]\n{config}\n"));
        if (expected is { } severity)
            test.ExpectedDiagnostics.Add(new DiagnosticResult(id, severity).WithLocation(0).WithOptions(DiagnosticOptions.IgnoreAdditionalLocations));
        return test.RunAsync();
    }
}
