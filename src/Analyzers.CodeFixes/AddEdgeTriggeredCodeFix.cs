using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Analyzers.Epoll;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;

namespace EpollGen.Analyzers.CodeFixes;

/// <summary>
/// EPG0100: makes a level-triggered registration edge-triggered by or-ing the edge-triggered flag into
/// the mask as written (<c>EpollEvents.EPOLLIN | EpollEvents.EPOLLET</c>, or <c>EPOLLIN | EPOLLET</c>
/// under <c>using static</c>). The code must then drain each event until EAGAIN; the title says so.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddEdgeTriggeredCodeFix)), Shared]
public sealed class AddEdgeTriggeredCodeFix : CodeFixProvider
{
    /// <summary>The code action's title, also its equivalence key.</summary>
    public const string Title = "Register edge-triggered (then drain until EAGAIN)";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.LevelTriggeredRegistration);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => new OneKeyBatchFixer(Title);

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null)
            return;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(EpollUsageAnalyzer.FlagProperty, out string? flag) || flag is null
                || diagnostic.AdditionalLocations.Count != 1
                || root.FindNode(diagnostic.AdditionalLocations[0].SourceSpan, getInnermostNodeForTie: true) is not ExpressionSyntax mask)
                continue;
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => AddAsync(context.Document, mask, flag, ct), equivalenceKey: Title),
                diagnostic);
        }
    }

    private static async Task<Document> AddAsync(Document document, ExpressionSyntax mask, string flag, CancellationToken cancellationToken)
    {
        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        SyntaxNode? root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        if (model is null || root is null || model.GetTypeInfo(mask, cancellationToken).Type is not { TypeKind: TypeKind.Enum } enumType)
            return document;

        ExpressionSyntax added = EpollMaskSyntax.InStyleOf(mask, enumType, flag, model, cancellationToken)
            ?? (ExpressionSyntax)SyntaxGenerator.GetGenerator(document)
                .MemberAccessExpression(SyntaxGenerator.GetGenerator(document).TypeExpression(enumType), flag)
                .WithAdditionalAnnotations(Simplifier.Annotation);
        ExpressionSyntax left = mask.WithoutTrivia();
        if (EpollMaskSyntax.BindsLooserThanOr(left))
            left = SyntaxFactory.ParenthesizedExpression(left);
        ExpressionSyntax or = SyntaxFactory.BinaryExpression(SyntaxKind.BitwiseOrExpression, left, added);
        if (EpollMaskSyntax.OrNeedsParentheses(mask))
            or = SyntaxFactory.ParenthesizedExpression(or);
        return document.WithSyntaxRoot(root.ReplaceNode(mask, or.WithTriviaFrom(mask)));
    }
}
