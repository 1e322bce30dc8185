using EpollGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace EpollGen.Generators.Tests;

/// <summary>The runtime's own specs, compiled from src/Runtime as source: every generated file is snapshotted.</summary>
public sealed class RuntimeSpecsTests
{
    // Specs/ and Interop/ but for hand-written parts of generated structs (Type.Concern.cs, such as
    // EpollEvent.Events.cs: they use generated fields, which a compilation running one generator, or
    // none, lacks); under Native/ only the [NativeStruct] specs (io_uring's uapi layouts), not the
    // P/Invoke code beside them, which needs the rest of the runtime.
    internal static string[] RuntimeSpecSources()
    {
        string runtime = Path.Combine(TestPaths.RepositoryRoot, "src", "Runtime");
        return new[] { "Specs", "Interop" }
            .SelectMany(folder => Directory.GetFiles(Path.Combine(runtime, folder), "*.cs"))
            .Where(p => !Path.GetFileNameWithoutExtension(p).Contains('.'))
            .Concat(Directory.GetFiles(Path.Combine(runtime, "Native"), "*.cs", SearchOption.AllDirectories)
                .Where(p => File.ReadAllText(p).Contains("[NativeStruct(", StringComparison.Ordinal)))
            .OrderBy(p => p, StringComparer.Ordinal)
            .Select(File.ReadAllText)
            .ToArray();
    }

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
                "EpollGen.Interop.Timespec.NativeStruct.g.cs",
                "EpollGen.Native.IoUring.IoCqringOffsets.NativeStruct.g.cs",
                "EpollGen.Native.IoUring.IoSqringOffsets.NativeStruct.g.cs",
                "EpollGen.Native.IoUring.IoUringCqe.NativeStruct.g.cs",
                "EpollGen.Native.IoUring.IoUringGeteventsArg.NativeStruct.g.cs",
                "EpollGen.Native.IoUring.IoUringParams.NativeStruct.g.cs",
                "EpollGen.Native.IoUring.IoUringSqe.NativeStruct.g.cs",
                "EpollGen.Native.IoUring.KernelTimespec.NativeStruct.g.cs",
            },
            GeneratorHarness.Sources(result).Select(s => s.HintName));
        Snapshot.Match(result, nameof(RuntimeSpecsTests));
    }
}
