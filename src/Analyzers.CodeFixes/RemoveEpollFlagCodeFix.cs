using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Analyzers.Epoll;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EpollGen.Analyzers.CodeFixes;

/// <summary>
/// EPG0101 and EPG0102: removes the flag the diagnostic names from a mask written as an <c>|</c> chain,
/// when exactly one term of the chain is that flag and another term remains. A flag that is
/// incompatible with others is no fix candidate (which one to drop is the author's choice), and
/// the analyzer marks only the unambiguous cases.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RemoveEpollFlagCodeFix)), Shared]
public sealed class RemoveEpollFlagCodeFix : CodeFixProvider
{
    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } =
        ImmutableArray.Create(DiagnosticIds.UnsupportedEpollFlag, DiagnosticIds.EpollFlagRejected);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => new OneKeyBatchFixer(nameof(RemoveEpollFlagCodeFix));

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        SemanticModel? model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
            return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(EpollUsageAnalyzer.FlagProperty, out string? flag) || flag is null
                || diagnostic.AdditionalLocations.Count != 1
                || root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax mask)
                continue;
            List<ExpressionSyntax> terms = EpollMaskSyntax.Terms(mask);
            ExpressionSyntax[] named = terms.Where(t => EpollMaskSyntax.Names(t, flag, model, context.CancellationToken)).ToArray();
            if (terms.Count < 2 || named.Length != 1)
                continue;
            // One equivalence key for every flag, so that Fix All removes each flag its rule reports.
            context.RegisterCodeFix(
                CodeAction.Create($"Remove {flag}", _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(named[0].Parent!, Without((BinaryExpressionSyntax)named[0].Parent!, named[0])))), equivalenceKey: nameof(RemoveEpollFlagCodeFix)),
                diagnostic);
        }
    }

    // `L | term` becomes L; `term | R` (the leftmost term) becomes R, keeping the chain's leading trivia.
    private static ExpressionSyntax Without(BinaryExpressionSyntax or, ExpressionSyntax term) =>
        or.Right == term
            ? or.Left.WithTrailingTrivia(or.Right.GetTrailingTrivia())
            : or.Right.WithLeadingTrivia(or.Left.GetLeadingTrivia());
}
