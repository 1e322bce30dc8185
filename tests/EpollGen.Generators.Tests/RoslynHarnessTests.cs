using EpollGen.Generators.FlagMaps;
using EpollGen.Generators.NativeStructs;
using EpollGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace EpollGen.Generators.Tests;

/// <summary>
/// A second opinion from the Roslyn SDK's own generator harness: the runtime's specs, compiled as
/// source against the .NET 10 reference pack, produce exactly the snapshotted files and compile
/// with no warning.
/// </summary>
public sealed class RoslynHarnessTests
{
    // The harness's own Net100 asks for reference pack 10.0.1, which the registry here does not
    // serve; the pack of the runtime running the tests is served wherever that runtime came from.
    private static readonly ReferenceAssemblies Net10 = new(
        "net10.0",
        new PackageIdentity("Microsoft.NETCore.App.Ref", Environment.Version.ToString(3)),
        Path.Combine("ref", "net10.0"));

    [Fact]
    public Task RuntimeFlagMaps_MatchSnapshotsInTheSdkHarness() =>
        Verify<FlagMapGenerator>("EpollGen.Interop.EpollTapMap.FlagMap.g.cs", "EpollGen.Interop.TapPollMap.FlagMap.g.cs");

    [Fact]
    public Task RuntimeNativeStructs_MatchSnapshotsInTheSdkHarness() =>
        Verify<NativeStructGenerator>(
            "EpollGen.Interop.Ceq.NativeStruct.g.cs", "EpollGen.Interop.CeqEvent.NativeStruct.g.cs", "EpollGen.Interop.EpollEvent.NativeStruct.g.cs",
            "EpollGen.Interop.EventMsg.NativeStruct.g.cs", "EpollGen.Interop.FdTapReq.NativeStruct.g.cs", "EpollGen.Interop.PollFd.NativeStruct.g.cs",
            "EpollGen.Interop.Timespec.NativeStruct.g.cs", "EpollGen.Native.IoUring.IoCqringOffsets.NativeStruct.g.cs", "EpollGen.Native.IoUring.IoSqringOffsets.NativeStruct.g.cs",
            "EpollGen.Native.IoUring.IoUringCqe.NativeStruct.g.cs", "EpollGen.Native.IoUring.IoUringGeteventsArg.NativeStruct.g.cs",
            "EpollGen.Native.IoUring.IoUringParams.NativeStruct.g.cs", "EpollGen.Native.IoUring.IoUringSqe.NativeStruct.g.cs",
            "EpollGen.Native.IoUring.KernelTimespec.NativeStruct.g.cs");

    private static async Task Verify<TGenerator>(params string[] hints)
        where TGenerator : new()
    {
        var test = new CSharpSourceGeneratorTest<TGenerator, DefaultVerifier>
        {
            ReferenceAssemblies = Net10,
            CompilerDiagnostics = CompilerDiagnostics.Warnings,
        };
        // The runtime builds with nullable enabled project-wide; so does this compilation.
        test.SolutionTransforms.Add((solution, project) => solution.WithProjectCompilationOptions(
            project,
            ((CSharpCompilationOptions)solution.GetProject(project)!.CompilationOptions!).WithNullableContextOptions(NullableContextOptions.Enable)));
        foreach (string source in RuntimeSpecsTests.RuntimeSpecSources())
            test.TestState.Sources.Add(source);
        foreach (string hint in hints)
        {
            string snapshot = Path.Combine(TestPaths.ProjectDir, "Snapshots",
                $"{nameof(RuntimeSpecsTests)}.{nameof(RuntimeSpecsTests.RuntimeSpecs_GenerateEveryTableAndLayout)}#{Path.GetFileNameWithoutExtension(hint)}.verified.cs");
            string expected = File.ReadAllText(snapshot).Replace("\"EpollGen.Generators\", \"VERSION\"", $"\"EpollGen.Generators\", \"{Common.GeneratedCode.Version}\"");
            test.TestState.GeneratedSources.Add((typeof(TGenerator), hint, SourceText.From(expected, System.Text.Encoding.UTF8)));
        }
        await test.RunAsync();
    }
}
