using EpollGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace EpollGen.Generators.Tests;

/// <summary>The runtime's own specs, compiled from src/Runtime as source: every generated file is snapshotted.</summary>
public sealed class RuntimeSpecsTests
{
    internal static string[] RuntimeSpecSources() =>
        new[] { "Specs", "Interop" }
            .SelectMany(folder => Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "src", "Runtime", folder), "*.cs"))
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(File.ReadAllText)
            .ToArray();

    [Fact]
    public void RuntimeSpecs_GenerateEveryTableAndLayout()
    {
        GeneratorDriverRunResult result = GeneratorHarness.RunClean(GeneratorHarness.Compile(RuntimeSpecSources(), referenceRuntime: false));

        Assert.Equal(
            new[]
            {
                "EpollGen.Interop.Ceq.NativeStruct.g.cs",
                "EpollGen.Interop.CeqEvent.NativeStruct.g.cs",
                "EpollGen.Interop.EpollEvent.NativeStruct.g.cs",
                "EpollGen.Interop.EpollTapMap.FlagMap.g.cs",
                "EpollGen.Interop.EventMsg.NativeStruct.g.cs",
                "EpollGen.Interop.FdTapReq.NativeStruct.g.cs",
                "EpollGen.Interop.PollFd.NativeStruct.g.cs",
                "EpollGen.Interop.TapPollMap.FlagMap.g.cs",
            },
            GeneratorHarness.Sources(result).Select(s => s.HintName));
        Snapshot.Match(result, nameof(RuntimeSpecsTests));
    }
}
