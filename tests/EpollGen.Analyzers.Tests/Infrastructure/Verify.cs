using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace EpollGen.Analyzers.Tests.Infrastructure;

/// <summary>
/// Roslyn SDK harnesses set up as a consumer of EpollGen compiles: the .NET 10 reference pack, the
/// EpollGen runtime (spec attributes, <c>EpollGen.Interop.EpollEvent</c>) and unsafe code allowed.
/// </summary>
internal static class Verify
{
    // The harness's own Net100 asks for a reference pack version the registry here may not serve;
    // the pack of the runtime running the tests is served wherever that runtime came from.
    public static readonly ReferenceAssemblies Net10 = new(
        "net10.0",
        new PackageIdentity("Microsoft.NETCore.App.Ref", Environment.Version.ToString(3)),
        Path.Combine("ref", "net10.0"));

    public static MetadataReference EpollGenRuntime { get; } =
        MetadataReference.CreateFromFile(typeof(EpollGen.FlagMapAttribute).Assembly.Location);

    /// <summary>An analyzer test over <paramref name="source"/> (markup marks the expected diagnostics).</summary>
    public static CSharpAnalyzerTest<TAnalyzer, DefaultVerifier> Analyzer<TAnalyzer>(string source)
        where TAnalyzer : DiagnosticAnalyzer, new()
    {
        var test = new ConsumerAnalyzerTest<TAnalyzer> { ReferenceAssemblies = Net10, TestCode = source };
        test.TestState.AdditionalReferences.Add(EpollGenRuntime);
        return test;
    }

    /// <summary>A code fix test: <paramref name="source"/> with its diagnostics marked, and the exact fixed code.</summary>
    public static CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier> CodeFix<TAnalyzer, TCodeFix>(string source, string fixedSource)
        where TAnalyzer : DiagnosticAnalyzer, new()
        where TCodeFix : CodeFixProvider, new()
    {
        var test = new CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
        {
            ReferenceAssemblies = Net10,
            TestCode = source,
            FixedCode = fixedSource,
        };
        test.TestState.AdditionalReferences.Add(EpollGenRuntime);
        test.FixedState.AdditionalReferences.Add(EpollGenRuntime);
        return test;
    }

    /// <summary>Compiles the test project without <c>AllowUnsafeBlocks</c>.</summary>
    public static void DisallowUnsafe(this AnalyzerTest<DefaultVerifier> test) =>
        test.SolutionTransforms.Add((solution, project) => solution.WithProjectCompilationOptions(
            project,
            ((CSharpCompilationOptions)solution.GetProject(project)!.CompilationOptions!).WithAllowUnsafe(false)));

    /// <summary>
    /// The harness pins every tested id to <see cref="ReportDiagnostic.Default"/> in the compilation
    /// options, which (like <c>/warnaserror-:ID</c>) keeps .editorconfig from raising a severity. A real
    /// build sets nothing for EpollGen's ids, so neither does this test.
    /// </summary>
    private sealed class ConsumerAnalyzerTest<TAnalyzer> : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
        where TAnalyzer : DiagnosticAnalyzer, new()
    {
        protected override Project ApplyCompilationOptions(Project project)
        {
            project = base.ApplyCompilationOptions(project);
            CompilationOptions options = project.CompilationOptions!;
            var specific = options.SpecificDiagnosticOptions.RemoveRange(
                options.SpecificDiagnosticOptions.Keys.Where(id => id.StartsWith("EPG", StringComparison.Ordinal)));
            return project.WithCompilationOptions(options.WithSpecificDiagnosticOptions(specific));
        }
    }
}
