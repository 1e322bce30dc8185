using System.Collections.Immutable;
using System.Linq;
using System.Runtime.InteropServices;
using EpollGen.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace EpollGen.Analyzers.Interop;

/// <summary>
/// EPG0200: a hand-written <c>epoll_event</c> passed to an epoll P/Invoke. The kernel packs the struct
/// to 12 bytes on x86_64 and lays it out naturally (16 bytes) everywhere else, so any single C# layout
/// is wrong somewhere. Judges only what it fully understands: a source struct of exactly a 32-bit
/// field then a 64-bit field, sequential or explicit layout, used by a <c>[DllImport]</c> or
/// <c>[LibraryImport]</c> method whose entry point is <c>epoll_ctl</c>, <c>epoll_wait</c>,
/// <c>epoll_pwait</c> or <c>epoll_pwait2</c>.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class HandWrittenEpollEventAnalyzer : DiagnosticAnalyzer
{
    private const string LibraryImportAttribute = "System.Runtime.InteropServices.LibraryImportAttribute";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.HandWrittenEpollEvent);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            INamedTypeSymbol? libraryImport = start.Compilation.GetTypeByMetadataName(LibraryImportAttribute);
            INamedTypeSymbol? span = start.Compilation.GetTypeByMetadataName("System.Span`1");
            INamedTypeSymbol? readOnlySpan = start.Compilation.GetTypeByMetadataName("System.ReadOnlySpan`1");
            start.RegisterSymbolAction(context => AnalyzeMethod(context, libraryImport, span, readOnlySpan), SymbolKind.Method);
        });
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, INamedTypeSymbol? libraryImport, INamedTypeSymbol? span, INamedTypeSymbol? readOnlySpan)
    {
        var method = (IMethodSymbol)context.Symbol;
        // Cheapest test first: only four entry points matter, and most methods take no parameters
        // of a struct type at all.
        if (method.Parameters.IsEmpty || !IsEpollEntryPoint(EntryPoint(method, libraryImport)))
            return;

        foreach (IParameterSymbol parameter in method.Parameters)
        {
            if (ElementType(parameter, span, readOnlySpan) is not { } element || Layout.Of(element) is not { } layout)
                continue;
            // The only two layouts a two-field struct can get are both wrong on one architecture.
            (string arch, int size, int offset) = layout.DataOffset == 4 ? ("arm64 and other non-x86_64 Linux", 16, 8) : ("x86_64", 12, 4);
            Location location = parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(context.CancellationToken) is ParameterSyntax { Type: { } typeSyntax }
                ? typeSyntax.GetLocation()
                : parameter.Locations.FirstOrDefault() ?? Location.None;
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.HandWrittenEpollEvent, location,
                element.Name, Text(layout.Size), Text(layout.DataOffset), arch, Text(size), Text(offset)));
        }
    }

    private static bool IsEpollEntryPoint(string? name) =>
        name is "epoll_ctl" or "epoll_wait" or "epoll_pwait" or "epoll_pwait2";

    // The native name: EntryPoint when given, else the method's own name.
    private static string? EntryPoint(IMethodSymbol method, INamedTypeSymbol? libraryImport)
    {
        if (method.GetDllImportData() is { } dllImport)
            return dllImport.EntryPointName ?? method.Name;
        if (libraryImport is null)
            return null;
        foreach (AttributeData attribute in method.GetAttributes())
        {
            if (!SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, libraryImport))
                continue;
            foreach (var named in attribute.NamedArguments)
            {
                if (named.Key == "EntryPoint")
                    return named.Value.Value as string;
            }
            return method.Name;
        }
        return null;
    }

    // The struct a parameter passes to native code: T*, ref/in/out T, T[], Span<T> or ReadOnlySpan<T>.
    private static INamedTypeSymbol? ElementType(IParameterSymbol parameter, INamedTypeSymbol? span, INamedTypeSymbol? readOnlySpan)
    {
        ITypeSymbol type = parameter.Type;
        ITypeSymbol? element = type switch
        {
            IPointerTypeSymbol pointer => pointer.PointedAtType,
            IArrayTypeSymbol { Rank: 1 } array => array.ElementType,
            INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } generic
                when SymbolEqualityComparer.Default.Equals(generic.OriginalDefinition, span)
                    || SymbolEqualityComparer.Default.Equals(generic.OriginalDefinition, readOnlySpan) => generic.TypeArguments[0],
            _ when parameter.RefKind != RefKind.None => type,
            _ => null,
        };
        return element as INamedTypeSymbol;
    }

    private static string Text(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The layout of a struct that looks like <c>epoll_event</c>, or null for anything else.</summary>
    private readonly struct Layout
    {
        private Layout(int size, int dataOffset)
        {
            Size = size;
            DataOffset = dataOffset;
        }

        public int Size { get; }

        public int DataOffset { get; }

        public static Layout? Of(INamedTypeSymbol type)
        {
            // Only source structs: a struct from metadata hides its StructLayout from the symbol API,
            // and one declared in several parts has no declaration order to judge.
            if (type.TypeKind != TypeKind.Struct || type.DeclaringSyntaxReferences.Length != 1 || type.IsGenericType)
                return null;
            if (type.GetAttributes().Any(a => SpecNames.Is(a, "NativeStructAttribute")))
                return null;

            IFieldSymbol[] fields = type.GetMembers().OfType<IFieldSymbol>().Where(f => !f.IsStatic && !f.IsConst).ToArray();
            if (fields.Length != 2 || Width(fields[0].Type) != 4 || Width(fields[1].Type) != 8)
                return null;

            LayoutKind kind = LayoutKind.Sequential;
            int pack = 0, minimumSize = 0;
            foreach (AttributeData attribute in type.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() != "System.Runtime.InteropServices.StructLayoutAttribute")
                    continue;
                if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not int k)
                    return null;
                kind = (LayoutKind)k;
                foreach (var named in attribute.NamedArguments)
                {
                    if (named.Value.Value is not int value)
                        return null;
                    if (named.Key == "Pack")
                        pack = value;
                    else if (named.Key == "Size")
                        minimumSize = value;
                }
            }

            int dataOffset;
            if (kind == LayoutKind.Sequential)
            {
                dataOffset = pack is >= 1 and <= 4 ? 4 : pack is 0 or 8 or 16 or 32 or 64 or 128 ? 8 : -1;
            }
            else if (kind == LayoutKind.Explicit)
            {
                if (FieldOffset(fields[0]) != 0)
                    return null;
                dataOffset = FieldOffset(fields[1]) ?? -1;
            }
            else
            {
                return null;
            }

            // A 64-bit field at 4 gives 12 bytes (packed, x86_64's layout); at 8, 16 bytes (natural).
            // Anything else, or a Size that pads past either, is not a layout this rule understands.
            if (dataOffset is not (4 or 8))
                return null;
            int size = dataOffset + 8;
            if (minimumSize > size)
                return null;
            return new Layout(size, dataOffset);
        }

        // 4 for int, uint and enums over them; 8 for long, ulong and enums over them; else 0.
        private static int Width(ITypeSymbol type)
        {
            if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum, EnumUnderlyingType: { } underlying })
                type = underlying;
            return type.SpecialType switch
            {
                SpecialType.System_Int32 or SpecialType.System_UInt32 => 4,
                SpecialType.System_Int64 or SpecialType.System_UInt64 => 8,
                _ => 0,
            };
        }

        private static int? FieldOffset(IFieldSymbol field)
        {
            foreach (AttributeData attribute in field.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() == "System.Runtime.InteropServices.FieldOffsetAttribute"
                    && attribute.ConstructorArguments.Length == 1
                    && attribute.ConstructorArguments[0].Value is int offset)
                    return offset;
            }
            return null;
        }
    }
}
