using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using EpollGen.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace EpollGen.Analyzers.Specs;

/// <summary>
/// Reports every reason the generator skips a <c>[FlagMap]</c> or <c>[NativeStruct]</c> spec, by running
/// the generator's own spec reader on each type that carries one of those attributes.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SpecAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Diagnostic property holding the reader's first message argument (code fixes use it).</summary>
    internal const string FirstArgumentProperty = "EpollGen.Argument0";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.AllSpec;

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            // A compilation that cannot see EpollGen's attributes has no spec to judge. Attributes are
            // matched by name, as the generator matches them, so both see the same specs.
            if (start.Compilation.GetTypesByMetadataName(SpecNames.FlagMapAttribute).IsEmpty
                && start.Compilation.GetTypesByMetadataName(SpecNames.NativeStructAttribute).IsEmpty)
                return;
            bool allowUnsafe = start.Compilation.Options is CSharpCompilationOptions { AllowUnsafe: true };
            start.RegisterSymbolAction(context => AnalyzeType(context, allowUnsafe), SymbolKind.NamedType);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, bool allowUnsafe)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        bool isFlagMap = false, isNativeStruct = false;
        AttributeData? nativeStructAttribute = null;
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (SpecNames.Is(attribute, "FlagMapAttribute"))
                isFlagMap = true;
            else if (SpecNames.Is(attribute, "NativeStructAttribute"))
            {
                isNativeStruct = true;
                nativeStructAttribute = attribute;
            }
        }
        if (!isFlagMap && !isNativeStruct)
            return;

        var errors = new List<SpecError>();
        if (isFlagMap)
            FlagMapReader.Read(type, errors);
        if (isNativeStruct)
            NativeStructReader.Read(type, errors);

        // The generator emits nothing unsafe without AllowUnsafeBlocks, valid spec or not; say so once per struct.
        if (isNativeStruct && !allowUnsafe)
            errors.Add(new SpecError(SpecErrorKind.NativeStructNeedsUnsafe, SpecNames.LocationOf(nativeStructAttribute!), type.Name));

        // Partial types: each part is analysed once, but a reader error is found once per type anyway.
        foreach (SpecError error in errors.Distinct(SameReport.Instance))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            if (!DiagnosticDescriptors.Spec.TryGetValue(error.Kind, out DiagnosticDescriptor? descriptor))
                continue;
            Location location = error.Location ?? type.Locations.FirstOrDefault() ?? Location.None;
            ImmutableDictionary<string, string?> properties = error.Arguments.Length > 0
                ? ImmutableDictionary<string, string?>.Empty.Add(FirstArgumentProperty, error.Arguments[0])
                : ImmutableDictionary<string, string?>.Empty;
            context.ReportDiagnostic(Diagnostic.Create(descriptor, location, properties, error.Arguments.Cast<object?>().ToArray()));
        }
    }

    // Two reader errors that would print as the same diagnostic at the same place are reported once.
    private sealed class SameReport : IEqualityComparer<SpecError>
    {
        public static readonly SameReport Instance = new();

        public bool Equals(SpecError? x, SpecError? y) =>
            x is not null && y is not null && x.Kind == y.Kind && Equals(x.Location, y.Location) && x.Arguments.SequenceEqual(y.Arguments);

        public int GetHashCode(SpecError obj) => ((int)obj.Kind * 397) ^ (obj.Location?.GetHashCode() ?? 0);
    }
}
