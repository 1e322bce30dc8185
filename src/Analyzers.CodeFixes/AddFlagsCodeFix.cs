using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Analyzers.Specs;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;

namespace EpollGen.Analyzers.CodeFixes;

/// <summary>
/// EPG0003: marks the enum a flag map names with <c>[Flags]</c>. Offered only when the type is an enum
/// declared in source; for a type that is no enum, or an enum in a referenced assembly, there is no
/// unambiguous fix.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddFlagsCodeFix)), Shared]
public sealed class AddFlagsCodeFix : CodeFixProvider
{
    /// <summary>The code action's title, also its equivalence key.</summary>
    public const string Title = "Add [Flags] to the enum";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.FlagEnumWithoutFlags);

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
            if (!diagnostic.Properties.TryGetValue(SpecAnalyzer.FirstArgumentProperty, out string? typeName)
                || root.FindNode(diagnostic.Location.SourceSpan) is not { } node
                || node.FirstAncestorOrSelf<AttributeSyntax>() is not { ArgumentList: { } arguments })
                continue;
            // The diagnostic names the enum as the reader spelled it; find which typeof(...) that is.
            INamedTypeSymbol? target = arguments.Arguments
                .Select(a => a.Expression is TypeOfExpressionSyntax t ? model.GetTypeInfo(t.Type, context.CancellationToken).Type as INamedTypeSymbol : null)
                .FirstOrDefault(t => t is { TypeKind: TypeKind.Enum } && t.ToDisplayString() == typeName);
            if (target is null
                || target.DeclaringSyntaxReferences.Length != 1
                || context.Document.Project.Solution.GetDocument(target.DeclaringSyntaxReferences[0].SyntaxTree) is null)
                continue;
            context.RegisterCodeFix(
                CodeAction.Create(Title, ct => AddFlagsAsync(context.Document.Project.Solution, target, ct), equivalenceKey: Title),
                diagnostic);
        }
    }

    private static async Task<Solution> AddFlagsAsync(Solution solution, INamedTypeSymbol target, CancellationToken cancellationToken)
    {
        SyntaxReference reference = target.DeclaringSyntaxReferences[0];
        Document? document = solution.GetDocument(reference.SyntaxTree);
        if (document is null || await reference.GetSyntaxAsync(cancellationToken).ConfigureAwait(false) is not EnumDeclarationSyntax declaration)
            return solution;
        // The batch fixer may visit one enum for two diagnostics (both sides of a map); add it once.
        if (declaration.AttributeLists.SelectMany(l => l.Attributes).Any(a => a.Name.ToString() is "Flags" or "FlagsAttribute" or "System.Flags" or "System.FlagsAttribute" or "global::System.Flags" or "global::System.FlagsAttribute"))
            return solution;

        DocumentEditor editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        SyntaxGenerator generator = editor.Generator;
        INamedTypeSymbol? flags = editor.SemanticModel.Compilation.GetTypeByMetadataName("System.FlagsAttribute");
        SyntaxNode name = flags is not null
            ? generator.TypeExpression(flags).WithAdditionalAnnotations(Simplifier.Annotation)
            : generator.IdentifierName("System.Flags");
        editor.AddAttribute(declaration, generator.Attribute(name));
        return editor.GetChangedDocument().Project.Solution;
    }
}
