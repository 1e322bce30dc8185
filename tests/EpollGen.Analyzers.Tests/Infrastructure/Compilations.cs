using System.Collections.Immutable;
using EpollGen.Analyzers.Epoll;
using EpollGen.Analyzers.Interop;
using EpollGen.Analyzers.Specs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace EpollGen.Analyzers.Tests.Infrastructure;

/// <summary>
/// Plain compilations run through EpollGen's analyzers without the SDK harness, for inputs that do
/// not compile (fuzzing) or that are too large to mark up (the repository's own sources).
/// </summary>
internal static class Compilations
{
    public static IReadOnlyList<MetadataReference> Framework { get; } = LoadFramework();

    public static ImmutableArray<DiagnosticAnalyzer> Analyzers { get; } =
        ImmutableArray.Create<DiagnosticAnalyzer>(new SpecAnalyzer(), new EpollUsageAnalyzer(), new HandWrittenEpollEventAnalyzer());

    public static CSharpCompilation Create(IEnumerable<string> sources, bool allowUnsafe = true) =>
        CSharpCompilation.Create(
            "Consumer",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest), path: $"File{i}.cs")),
            Framework.Append(Verify.EpollGenRuntime),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: allowUnsafe, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>Runs the analyzers; every analyzer exception is returned, never swallowed.</summary>
    public static async Task<(ImmutableArray<Diagnostic> Diagnostics, IReadOnlyList<Exception> Exceptions)> AnalyzeAsync(Compilation compilation)
    {
        var exceptions = new List<Exception>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            onAnalyzerException: (e, _, _) => { lock (exceptions) exceptions.Add(e); },
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false,
            reportSuppressedDiagnostics: false);
        ImmutableArray<Diagnostic> diagnostics = await compilation.WithAnalyzers(Analyzers, options).GetAnalyzerDiagnosticsAsync();
        return (diagnostics, exceptions);
    }

    private static IReadOnlyList<MetadataReference> LoadFramework()
    {
        // .../shared/Microsoft.NETCore.App/<version>/ → .../packs/Microsoft.NETCore.App.Ref/<version>/ref/net10.0
        string runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
        string packs = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
        string? refDir = Directory.Exists(packs)
            ? Directory.GetDirectories(packs)
                .Select(v => Path.Combine(v, "ref", "net" + Environment.Version.Major + ".0"))
                .Where(Directory.Exists)
                .OrderByDescending(d => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(d))), out Version? v) ? v : new Version())
                .FirstOrDefault()
            : null;
        if (refDir is null)
            throw new InvalidOperationException($"No Microsoft.NETCore.App.Ref pack under {packs}: run the tests with the .NET SDK.");
        return Directory.GetFiles(refDir, "*.dll").Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    }
}
