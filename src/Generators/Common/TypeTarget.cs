using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EpollGen.Generators.Common;

/// <summary>
/// Where generated members go: the user's partial type, with its namespace and the chain of
/// containing types as strings, so emitters can reopen the type without holding symbols.
/// </summary>
/// <param name="Namespace">The namespace, or empty for the global namespace.</param>
/// <param name="ContainingTypes">Outermost first, each as it must be reopened: <c>partial class Outer</c>.</param>
/// <param name="Declaration">How to reopen the target itself: <c>partial struct EpollEvent</c>.</param>
/// <param name="Name">The target's simple name.</param>
/// <param name="MetadataName">The namespace-qualified metadata name, used for stable hint names.</param>
internal sealed record TypeTarget(
    string Namespace,
    EquatableArray<string> ContainingTypes,
    string Declaration,
    string Name,
    string MetadataName)
{
    /// <summary>The hint name for one feature's output, from characters Roslyn accepts in any version.</summary>
    public string HintName(string feature)
    {
        var chars = (MetadataName + "." + feature + ".g.cs").ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            char c = chars[i];
            bool ok = c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '.' or '_' or '-';
            if (!ok)
                chars[i] = '_';
        }
        return new string(chars);
    }

    /// <summary>
    /// Describes <paramref name="type"/> as a target, or returns the reason it cannot be one (none
    /// for a type without a name, which the compiler already reports).
    /// A target must be declared <c>partial</c> everywhere, as must every containing type, and no
    /// type in the chain may be generic (the spec attributes cannot name type parameters).
    /// </summary>
    public static TypeTarget? From(INamedTypeSymbol type, out SpecErrorKind? error)
    {
        error = null;
        var containing = new System.Collections.Generic.List<string>();
        for (INamedTypeSymbol? t = type; t is not null; t = t.ContainingType)
        {
            // A declaration still being typed has no name yet: the compiler reports it, and there
            // is nothing to reopen.
            if (t.Name.Length == 0)
                return null;
            if (t.IsGenericType)
            {
                error = SpecErrorKind.TargetGeneric;
                return null;
            }
            string? declaration = PartialDeclaration(t);
            if (declaration is null)
            {
                error = SpecErrorKind.TargetNotPartial;
                return null;
            }
            containing.Insert(0, declaration);
        }
        string self = containing[containing.Count - 1];
        containing.RemoveAt(containing.Count - 1);
        string ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        string metadataName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat).Replace("global::", "");
        return new TypeTarget(ns, containing.ToEquatableArray(), self, type.Name, metadataName);
    }

    // Reopening a type needs its kind keyword and every modifier that all parts must repeat.
    private static string? PartialDeclaration(INamedTypeSymbol type)
    {
        string? keyword = null;
        foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax() is not TypeDeclarationSyntax declaration)
                return null;
            if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                return null;
            keyword ??= declaration switch
            {
                RecordDeclarationSyntax r when r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "record struct",
                RecordDeclarationSyntax => "record",
                StructDeclarationSyntax => "struct",
                ClassDeclarationSyntax => "class",
                InterfaceDeclarationSyntax => "interface",
                _ => null,
            };
        }
        if (keyword is null)
            return null;
        string prefix = "";
        if (type.IsReadOnly && type.TypeKind == TypeKind.Struct)
            prefix += "readonly ";
        if (type.IsRefLikeType)
            prefix += "ref ";
        return prefix + "partial " + keyword + " " + type.Name;
    }
}
