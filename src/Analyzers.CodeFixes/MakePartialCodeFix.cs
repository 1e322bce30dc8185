using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EpollGen.Analyzers.CodeFixes;

/// <summary>
/// EPG0001: declares the spec target, and every type containing it, <c>partial</c> in each of their
/// declarations that lacks it. Unambiguous: <c>partial</c> changes nothing else about a type.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakePartialCodeFix)), Shared]
public sealed class MakePartialCodeFix : CodeFixProvider
{
    /// <summary>The code action's title, also its equivalence key.</summary>
    public const string Title = "Make the spec target partial";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.TargetNotPartial);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => new OneKeyBatchFixer(Title);

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        SemanticModel? model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
            return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (root.FindNode(diagnostic.Location.SourceSpan).FirstAncestorOrSelf<TypeDeclarationSyntax>() is not { } declaration
                || model.GetDeclaredSymbol(declaration, context.CancellationToken) is not { } type
                || Missing(type, context.CancellationToken).Count == 0)
                continue;
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => AddPartialAsync(context.Document.Project.Solution, type, ct), equivalenceKey: Title),
                diagnostic);
        }
    }

    // Declarations of the type and its containing types that lack 'partial'.
    private static List<TypeDeclarationSyntax> Missing(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var missing = new List<TypeDeclarationSyntax>();
        for (INamedTypeSymbol? t = type; t is not null; t = t.ContainingType)
        {
            foreach (SyntaxReference reference in t.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax declaration && !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                    missing.Add(declaration);
            }
        }
        return missing;
    }

    private static async Task<Solution> AddPartialAsync(Solution solution, INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        foreach (IGrouping<SyntaxTree, TypeDeclarationSyntax> group in Missing(type, cancellationToken).GroupBy(d => d.SyntaxTree))
        {
            if (solution.GetDocument(group.Key) is not { } document)
                continue;
            SyntaxNode root = await group.Key.GetRootAsync(cancellationToken).ConfigureAwait(false);
            root = root.ReplaceNodes(group, (_, rewritten) => WithPartial(rewritten));
            solution = document.WithSyntaxRoot(root).Project.Solution;
        }
        return solution;
    }

    // 'partial' must come last, right before the type keyword (after 'readonly', 'ref', 'static', …).
    private static TypeDeclarationSyntax WithPartial(TypeDeclarationSyntax declaration)
    {
        SyntaxToken partial = SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space);
        if (declaration.Modifiers.Count == 0)
        {
            // The keyword's leading trivia (indentation, comments) moves to 'partial'.
            SyntaxToken keyword = declaration.Keyword;
            return declaration
                .WithKeyword(keyword.WithLeadingTrivia())
                .WithModifiers(SyntaxFactory.TokenList(partial.WithLeadingTrivia(keyword.LeadingTrivia)));
        }
        return declaration.WithModifiers(declaration.Modifiers.Add(partial));
    }
}
