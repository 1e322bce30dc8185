using System.Collections.Immutable;
using EpollGen.Analyzers.CodeFixes;
using EpollGen.Analyzers.Epoll;
using EpollGen.Analyzers.Specs;
using EpollGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// Several rules' fixes applied together in one document, as
/// <c>dotnet format analyzers --diagnostics EPG0100 EPG0107 …</c> applies them: for each id in turn,
/// it takes the first diagnostic of any rule it was asked about, asks that id's code fix for actions
/// on it, and runs the fixer's Fix All over the solution under the first action's equivalence key,
/// or under none when the fixer offered nothing for that diagnostic. Every fixer must still return a
/// Fix All action, and every diagnostic must be fixed.
/// </summary>
public sealed class FixAllAcrossRulesTests
{
    private const string Head = """
        using EpollGen;
        using EpollGen.Interop;

        """;

    [Fact]
    public Task LevelTriggered_UnsupportedFlag_AndAddRetried_InOneDocument_AreAllFixed() =>
        FormatAsync(
            new DiagnosticAnalyzer[] { new EpollUsageAnalyzer() },
            new CodeFixProvider[] { new AddEdgeTriggeredCodeFix(), new UseModifyCodeFix(), new RemoveEpollFlagCodeFix() },
            ["EPG0100", "EPG0107", "EPG0101"],
            Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd)
                {
                    set.Add(fd, EpollEvents.EPOLLIN, 0);
                    set.Add(fd, EpollEvents.EPOLLOUT | EpollEvents.EPOLLMSG | EpollEvents.EPOLLET, 1);
                    if (!set.TryAdd(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 2, out int errno) && errno == 17)
                        set.Add(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 2);
                    set.Modify(fd, EpollEvents.EPOLLOUT, 3);
                }
            }
            """,
            Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd)
                {
                    set.Add(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0);
                    set.Add(fd, EpollEvents.EPOLLOUT | EpollEvents.EPOLLET, 1);
                    if (!set.TryAdd(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 2, out int errno) && errno == 17)
                        set.Modify(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 2);
                    set.Modify(fd, EpollEvents.EPOLLOUT | EpollEvents.EPOLLET, 3);
                }
            }
            """);

    [Fact]
    public Task NotPartial_AndEnumWithoutFlags_InOneDocument_AreAllFixed() =>
        FormatAsync(
            new DiagnosticAnalyzer[] { new SpecAnalyzer() },
            new CodeFixProvider[] { new MakePartialCodeFix(), new AddFlagsCodeFix() },
            ["EPG0003", "EPG0001"],
            """
            using System;
            using EpollGen;

            [NativeStruct("s")]
            [NativeField("a", "int")]
            public struct S;

            public enum A : uint { X = 1, Y = 2 }
            [Flags] public enum B : uint { P = 1, Q = 2 }

            [FlagMap(typeof(A), typeof(B))]
            [FlagPair(A.X, B.P)]
            public static class Map;

            [FlagMap(typeof(B), typeof(A))]
            [FlagPair(B.P, A.X)]
            public static class Back;
            """,
            """
            using System;
            using EpollGen;

            [NativeStruct("s")]
            [NativeField("a", "int")]
            public partial struct S;

            [Flags]
            public enum A : uint { X = 1, Y = 2 }
            [Flags] public enum B : uint { P = 1, Q = 2 }

            [FlagMap(typeof(A), typeof(B))]
            [FlagPair(A.X, B.P)]
            public static partial class Map;

            [FlagMap(typeof(B), typeof(A))]
            [FlagPair(B.P, A.X)]
            public static partial class Back;
            """);

    private static async Task FormatAsync(DiagnosticAnalyzer[] analyzers, CodeFixProvider[] fixers, string[] ids, string source, string expected)
    {
        Document document = CreateDocument(source);
        Solution solution = document.Project.Solution;
        foreach (string id in ids)
        {
            CodeFixProvider fixer = fixers.Single(f => f.FixableDiagnosticIds.Contains(id));
            ImmutableArray<Diagnostic> diagnostics = await AnalyzeAsync(solution.GetProject(document.Project.Id)!, analyzers, ids);
            Diagnostic first = diagnostics.OrderBy(d => d.Location.SourceSpan.Start).First();
            Document firstDocument = solution.GetDocument(first.Location.SourceTree)!;

            CodeAction? action = null;
            await fixer.RegisterCodeFixesAsync(new CodeFixContext(firstDocument, first, (a, _) => action ??= a, CancellationToken.None));
            var context = new FixAllContext(
                firstDocument, fixer, FixAllScope.Solution, action?.EquivalenceKey!, [id], new FixedDiagnostics(diagnostics), CancellationToken.None);
            FixAllProvider? provider = fixer.GetFixAllProvider();
            Assert.NotNull(provider);
            Assert.Contains(FixAllScope.Solution, provider.GetSupportedFixAllScopes());
            CodeAction? fixAll = await provider.GetFixAsync(context);
            Assert.True(fixAll is not null, $"{id}: {fixer.GetType().Name} returned no Fix All action");
            ImmutableArray<CodeActionOperation> operations = await fixAll.GetOperationsAsync(CancellationToken.None);
            solution = Assert.Single(operations.OfType<ApplyChangesOperation>()).ChangedSolution;
        }

        Document fixedDocument = solution.GetDocument(document.Id)!;
        Assert.Equal(expected, (await fixedDocument.GetTextAsync()).ToString());
        Assert.Empty(await AnalyzeAsync(fixedDocument.Project, analyzers, ids));
    }

    private static Document CreateDocument(string source)
    {
        var workspace = new AdhocWorkspace();
        ProjectId id = ProjectId.CreateNewId();
        Solution solution = workspace.CurrentSolution
            .AddProject(ProjectInfo.Create(
                id, VersionStamp.Default, "Consumer", "Consumer", LanguageNames.CSharp,
                compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true, nullableContextOptions: NullableContextOptions.Enable),
                parseOptions: CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest),
                metadataReferences: Compilations.Framework.Append(Verify.EpollGenRuntime)))
            .AddDocument(DocumentId.CreateNewId(id), "Use.cs", source, filePath: "/Use.cs");
        return solution.Projects.Single().Documents.Single();
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(Project project, DiagnosticAnalyzer[] analyzers, string[] ids)
    {
        Compilation compilation = (await project.GetCompilationAsync())!;
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        ImmutableArray<Diagnostic> diagnostics = await compilation.WithAnalyzers([.. analyzers]).GetAnalyzerDiagnosticsAsync();
        return [.. diagnostics.Where(d => ids.Contains(d.Id))];
    }

    /// <summary>The diagnostics one analysis found, handed to Fix All as dotnet format hands them.</summary>
    private sealed class FixedDiagnostics(ImmutableArray<Diagnostic> diagnostics) : FixAllContext.DiagnosticProvider
    {
        public override Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            GetProjectDiagnosticsAsync(project, cancellationToken);

        public override Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken) =>
            Task.FromResult(diagnostics.Where(d => d.Location.SourceTree?.FilePath == document.FilePath));

        public override Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            Task.FromResult<IEnumerable<Diagnostic>>(diagnostics);
    }
}
