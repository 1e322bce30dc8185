using System.Collections.Immutable;
using System.Composition;
using System.Threading.Tasks;
using EpollGen.Analyzers.Epoll;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EpollGen.Analyzers.CodeFixes;

/// <summary>
/// EPG0107: an ADD retried after EEXIST becomes a MOD: <c>Add</c> → <c>Modify</c>, <c>TryAdd</c> →
/// <c>TryModify</c>, <c>EPOLL_CTL_ADD</c> → <c>EPOLL_CTL_MOD</c>. The analyzer names the replacement
/// only when exactly one member fits (a literal operation, for instance, gets no fix).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(UseModifyCodeFix)), Shared]
public sealed class UseModifyCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.AddRetriedAfterExists);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => new OneKeyBatchFixer(nameof(UseModifyCodeFix));

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
            return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(EpollUsageAnalyzer.ReplacementProperty, out string? replacement) || replacement is null
                || diagnostic.AdditionalLocations.Count != 1
                || root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is not IdentifierNameSyntax name)
                continue;
            // One equivalence key for Modify, TryModify and EPOLL_CTL_MOD, so fix-all fixes them together.
            context.RegisterCodeFix(
                CodeAction.Create($"Use {replacement}", _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(name, SyntaxFactory.IdentifierName(replacement).WithTriviaFrom(name)))), equivalenceKey: nameof(UseModifyCodeFix)),
                diagnostic);
        }
    }
}
