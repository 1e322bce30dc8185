using EpollGen.Generators.Common;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EpollGen.Generators.NativeStructs;

/// <summary>
/// Emits explicit-layout structs for every struct marked <c>[NativeStruct]</c>. An invalid spec is
/// skipped, and so is every spec of a compilation without <c>AllowUnsafeBlocks</c>, whose generated
/// code could not compile; the analyzer reports both.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NativeStructGenerator : IIncrementalGenerator
{
    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<NativeStructSpec> specs = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                SpecNames.NativeStructAttribute,
                predicate: static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.TypeDeclarationSyntax,
                transform: static (ctx, _) => ctx.TargetSymbol is INamedTypeSymbol type ? NativeStructReader.Read(type, errors: null) : null)
            .WithTrackingName(TrackingNames.NativeStructSpecs)
            .Where(static spec => spec is not null)
            .Select(static (spec, _) => spec!)
            .WithTrackingName(TrackingNames.NativeStructValid);

        IncrementalValueProvider<bool> allowUnsafe = context.CompilationProvider
            .Select(static (compilation, _) => compilation.Options is CSharpCompilationOptions { AllowUnsafe: true })
            .WithTrackingName(TrackingNames.AllowUnsafe);

        IncrementalValuesProvider<NativeStructSpec> emittable = specs
            .Combine(allowUnsafe)
            .Where(static pair => pair.Right)
            .Select(static (pair, _) => pair.Left)
            .WithTrackingName(TrackingNames.NativeStructOutput);

        context.RegisterSourceOutput(emittable, static (output, spec) =>
            output.AddSource(spec.Target.HintName("NativeStruct"), NativeStructEmitter.Emit(spec)));
    }
}
