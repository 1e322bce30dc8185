using EpollGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// Realistic code stays quiet: the runtime's own specs and libc declarations, and the integration
/// tests' consumer specs (inotify, io_uring, packed wire headers), analysed as a consumer would write them.
/// </summary>
public sealed class NoFalsePositiveTests
{
    [Theory]
    [InlineData("src/Runtime")]
    [InlineData("tests/EpollGen.IntegrationTests")]
    [InlineData("samples/EpollGen.Tables")]
    public async Task RepositorySources_GetNoEpollGenDiagnostic(string folder)
    {
        string root = Path.Combine(TestPaths.RepositoryRoot, folder);
        string[] files = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToArray();
        Assert.NotEmpty(files);

        // Generated members are absent (no generator runs here), so the compilation has errors; the
        // analyzers must judge the specs regardless, and find nothing wrong.
        var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(Compilations.Create(files.Select(File.ReadAllText)));

        Assert.Empty(exceptions);
        Assert.Empty(diagnostics.Where(d => d.Id.StartsWith("EPG", StringComparison.Ordinal) || d.Id == "AD0001").Select(d => d.ToString()));

        // Not vacuous: the same compilation with one bad spec added reports exactly that spec.
        const string bad = "[EpollGen.NativeStruct(\"bad\")][EpollGen.NativeField(\"a\", \"long double\")] public partial struct BadSpecProbe;";
        var (probe, _) = await Compilations.AnalyzeAsync(Compilations.Create(files.Select(File.ReadAllText).Append(bad)));
        Assert.Equal([DiagnosticIds.NativeFieldTypeNotFixed], probe.Where(d => d.Id.StartsWith("EPG", StringComparison.Ordinal)).Select(d => d.Id));
    }

    [Fact]
    public async Task CodeWithoutEpollGen_IsNotEvenLookedAt()
    {
        // No spec attribute in the compilation: the spec analyzer registers nothing at all.
        const string source = """
            using System.Runtime.InteropServices;
            [StructLayout(LayoutKind.Sequential)] public struct Point { public int X; public long Y; }
            public static partial class Native { [DllImport("libc")] public static extern int getpid(); }
            """;
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("NoEpollGen",
            [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(source)],
            Compilations.Framework,
            new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

        var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(compilation);

        Assert.Empty(exceptions);
        Assert.Empty(diagnostics);
    }
}
