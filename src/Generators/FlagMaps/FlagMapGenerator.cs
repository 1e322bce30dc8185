using EpollGen.Generators.Common;
using Microsoft.CodeAnalysis;

namespace EpollGen.Generators.FlagMaps;

/// <summary>
/// Emits flag translation tables for every type marked <c>[FlagMap]</c>. An invalid spec is skipped;
/// the analyzer reports why, from the same <see cref="FlagMapReader"/>.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class FlagMapGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<FlagMapSpec> specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                SpecNames.FlagMapAttribute,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax,
                transform: static (ctx, _) => ctx.TargetSymbol is INamedTypeSymbol type ? FlagMapReader.Read(type, errors: null) : null)
            .WithTrackingName(TrackingNames.FlagMapSpecs)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.FlagMapValid);

        // Lookup tables are emitted only for .NET 7+ (marked by RuntimeHelpers.CreateSpan), as
        // before they became arrays; elsewhere the shift form is used. The benchmark that picked
        // them ran on .NET 10.
        IncrementalValueProvider<bool> tablesAvailable = context.CompilationProvider
            .Select(static (compilation, _) =>
                compilation.GetTypeByMetadataName("System.Runtime.CompilerServices.RuntimeHelpers")?.GetMembers("CreateSpan").Length > 0)
            .WithTrackingName(TrackingNames.TablesAvailable);

        context.RegisterSourceOutput(specs.Combine(tablesAvailable), static (output, pair) =>
            output.AddSource(pair.Left.Target.HintName("FlagMap"), FlagMapEmitter.Emit(pair.Left, pair.Right)));
    }
}
