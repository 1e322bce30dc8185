using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EpollGen.Analyzers.CodeFixes;

/// <summary>Reading and rewriting a mask written as <c>A | B | C</c>, in the style it is written in.</summary>
internal static class EpollMaskSyntax
{
    /// <summary>
    /// A reference to <paramref name="member"/> of <paramref name="enumType"/> spelled as the mask spells
    /// its flags: <c>Q.MEMBER</c> after a qualified flag, <c>MEMBER</c> after a bare one (using static),
    /// else null (the caller falls back to the fully qualified name).
    /// </summary>
    public static ExpressionSyntax? InStyleOf(ExpressionSyntax mask, ITypeSymbol enumType, string member, SemanticModel model, CancellationToken cancellationToken)
    {
        foreach (SyntaxNode node in mask.DescendantNodesAndSelf())
        {
            if (node is MemberAccessExpressionSyntax access && IsMemberOf(access, enumType, model, cancellationToken))
                return SyntaxFactory.MemberAccessExpression(SyntaxKind.SimpleMemberAccessExpression, access.Expression.WithoutTrivia(), SyntaxFactory.IdentifierName(member));
            if (node is IdentifierNameSyntax name && name.Parent is not MemberAccessExpressionSyntax && IsMemberOf(name, enumType, model, cancellationToken))
                return SyntaxFactory.IdentifierName(member);
        }
        return null;
    }

    /// <summary>The terms of a <c>|</c> chain, left to right; the mask itself when it is no chain.</summary>
    public static List<ExpressionSyntax> Terms(ExpressionSyntax mask)
    {
        var terms = new List<ExpressionSyntax>();
        ExpressionSyntax current = mask;
        while (current is BinaryExpressionSyntax { RawKind: (int)SyntaxKind.BitwiseOrExpression } or)
        {
            terms.Add(or.Right);
            current = or.Left;
        }
        terms.Add(current);
        terms.Reverse();
        return terms;
    }

    /// <summary>True when <paramref name="expression"/> binds to the enum member <paramref name="member"/>.</summary>
    public static bool Names(ExpressionSyntax expression, string member, SemanticModel model, CancellationToken cancellationToken) =>
        model.GetSymbolInfo(expression, cancellationToken).Symbol is IFieldSymbol { ContainingType.TypeKind: TypeKind.Enum } field && field.Name == member;

    /// <summary>
    /// Whether <paramref name="expression"/> needs parentheses to be an operand of <c>|</c>: operators
    /// that bind less tightly (conditional, logical, coalescing, assignment, lambda).
    /// </summary>
    public static bool BindsLooserThanOr(ExpressionSyntax expression) => expression is ConditionalExpressionSyntax
        or AssignmentExpressionSyntax
        or LambdaExpressionSyntax
        or BinaryExpressionSyntax { RawKind: (int)SyntaxKind.LogicalAndExpression or (int)SyntaxKind.LogicalOrExpression or (int)SyntaxKind.CoalesceExpression };

    /// <summary>Whether a <c>|</c> expression standing where <paramref name="expression"/> stands needs parentheses.</summary>
    public static bool OrNeedsParentheses(ExpressionSyntax expression) => expression.Parent switch
    {
        ArgumentSyntax or EqualsValueClauseSyntax or ParenthesizedExpressionSyntax or ArrowExpressionClauseSyntax or ReturnStatementSyntax => false,
        AssignmentExpressionSyntax assignment => assignment.Left == expression,
        BinaryExpressionSyntax { RawKind: (int)SyntaxKind.BitwiseOrExpression } or => or.Right == expression,
        _ => true,
    };

    private static bool IsMemberOf(ExpressionSyntax expression, ITypeSymbol enumType, SemanticModel model, CancellationToken cancellationToken) =>
        model.GetSymbolInfo(expression, cancellationToken).Symbol is IFieldSymbol field
        && SymbolEqualityComparer.Default.Equals(field.ContainingType, enumType);
}
