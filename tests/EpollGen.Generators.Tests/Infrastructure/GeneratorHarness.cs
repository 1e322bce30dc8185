using System.Collections.Immutable;
using EpollGen.Generators.FlagMaps;
using EpollGen.Generators.NativeStructs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace EpollGen.Generators.Tests.Infrastructure;

/// <summary>Compiles sources, runs EpollGen's generators over them and checks the result is clean.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.CSharp12);

    public static CSharpCompilation Compile(IEnumerable<string> sources, bool referenceRuntime = true, bool allowUnsafe = true)
    {
        IEnumerable<MetadataReference> references = referenceRuntime
            ? References.Framework.Append(References.EpollGenRuntime)
            : References.Framework;
        return CSharpCompilation.Create(
            "Consumer",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"Source{i}.cs")),
            references,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                allowUnsafe: allowUnsafe,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 9999));
    }

    public static IIncrementalGenerator[] Generators() => [new FlagMapGenerator(), new NativeStructGenerator()];

    public static GeneratorDriver CreateDriver() => CSharpGeneratorDriver.Create(
        Generators().Select(g => g.AsSourceGenerator()),
        parseOptions: ParseOptions,
        driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>
    /// Runs the generators and asserts what every generator test must: no generator exception, no
    /// generator diagnostic, and an output compilation with no error or warning that emits.
    /// </summary>
    public static GeneratorDriverRunResult RunClean(CSharpCompilation compilation)
    {
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> generatorDiagnostics);
        GeneratorDriverRunResult result = driver.GetRunResult();
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        Assert.Empty(generatorDiagnostics);
        AssertCompilesClean(output);
        return result;
    }

    public static void AssertCompilesClean(Compilation compilation)
    {
        Diagnostic[] problems = compilation.GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .ToArray();
        Assert.True(problems.Length == 0, "The compilation has problems:\n" + string.Join("\n", problems.Select(d => d.ToString())));
        using var stream = new MemoryStream();
        Microsoft.CodeAnalysis.Emit.EmitResult emit = compilation.Emit(stream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
    }

    /// <summary>Every generated file of a run, by hint name.</summary>
    public static IReadOnlyList<GeneratedSourceResult> Sources(GeneratorDriverRunResult result) =>
        result.Results.SelectMany(r => r.GeneratedSources).OrderBy(s => s.HintName, StringComparer.Ordinal).ToArray();
}
