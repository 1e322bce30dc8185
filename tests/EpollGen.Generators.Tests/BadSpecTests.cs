using EpollGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace EpollGen.Generators.Tests;

/// <summary>
/// Each reason a spec is invalid: the generator emits nothing for it (and nothing broken), and the
/// shared spec reader names exactly that reason, which the analyzer will report under the same id.
/// </summary>
public sealed class BadSpecTests
{
    private const string Prelude = """
        using System;
        using EpollGen;

        namespace Bad;

        [Flags] public enum A : uint { None = 0, X = 1, Y = 2, Both = 3, Z = 4 }
        [Flags] public enum B : uint { P = 1, Q = 2, R = 4 }
        public enum NoFlags : uint { X = 1 }

        """;

    public static TheoryData<string, string, string> Cases() => new()
    {
        { "EPG0001", "flag map on a class that is not partial", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)] public static class Map { }" },
        { "EPG0001", "flag map inside a type that is not partial", "public static class Outer { [FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)] public static partial class Map; }" },
        { "EPG0001", "native struct that is not partial", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public struct S { }" },
        { "EPG0002", "flag map inside a generic type", "public partial class Outer<T> { [FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)] public static partial class Map; }" },
        { "EPG0003", "source enum without [Flags]", "[FlagMap(typeof(NoFlags), typeof(B))] public static partial class Map; " },
        { "EPG0003", "target that is not an enum", "[FlagMap(typeof(A), typeof(int))] public static partial class Map; " },
        { "EPG0004", "target value that is no member", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, (B)0x800)] public static partial class Map; " },
        { "EPG0004", "plain integer instead of a member", "[FlagMap(typeof(A), typeof(B))][FlagPair(1, B.P)] public static partial class Map; " },
        { "EPG0004", "member of the wrong enum", "[FlagMap(typeof(A), typeof(B))][FlagPair(B.P, B.P)] public static partial class Map; " },
        { "EPG0004", "always-reported bits no member sets", "[FlagMap(typeof(A), typeof(B), AlwaysReported = (A)0x80)][FlagPair(A.X, B.P)] public static partial class Map; " },
        { "EPG0005", "pair of a multi-bit member", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.Both, B.P)] public static partial class Map; " },
        { "EPG0005", "mode of the zero member", "[FlagMap(typeof(A), typeof(B))][FlagMode(A.None)] public static partial class Map; " },
        { "EPG0006", "one source bit paired twice", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)][FlagPair(A.X, B.Q)] public static partial class Map; " },
        { "EPG0006", "one target bit paired twice", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)][FlagPair(A.Y, B.P)] public static partial class Map; " },
        { "EPG0006", "a paired bit that is also a mode", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)][FlagMode(A.X)] public static partial class Map; " },
        { "EPG0006", "a mode that is also unsupported", "[FlagMap(typeof(A), typeof(B))][FlagMode(A.Z)][FlagUnsupported(A.Z, \"no\")] public static partial class Map; " },
        { "EPG0007", "always-reported bit that is not mapped", "[FlagMap(typeof(A), typeof(B), AlwaysReported = A.Y)][FlagPair(A.X, B.P)][FlagMode(A.Y)] public static partial class Map; " },
        { "EPG0010", "long double", "[NativeStruct(\"s\")][NativeField(\"a\", \"long double\")] public partial struct S; " },
        { "EPG0010", "struct by value", "[NativeStruct(\"s\")][NativeField(\"a\", \"struct timespec\")] public partial struct S; " },
        { "EPG0010", "void", "[NativeStruct(\"s\")][NativeField(\"a\", \"void\")] public partial struct S; " },
        { "EPG0010", "array of length zero", "[NativeStruct(\"s\")][NativeField(\"a\", \"int[0]\")] public partial struct S; " },
        { "EPG0010", "unknown typedef", "[NativeStruct(\"s\")][NativeField(\"a\", \"my_handle_t\")] public partial struct S; " },
        { "EPG0011", "natural size declared as packed", "[NativeStruct(\"e\", Size = 12)][NativeField(\"events\", \"uint32_t\")][NativeField(\"data\", \"uint64_t\")] public partial struct S; " },
        { "EPG0011", "x86_64 size declared as natural", "[NativeStruct(\"e\", Packing = NativePacking.PackedOnX64, X64Size = 16)][NativeField(\"events\", \"uint32_t\")][NativeField(\"data\", \"uint64_t\")] public partial struct S; " },
        { "EPG0012", "two fields of one name", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")][NativeField(\"a\", \"long\")] public partial struct S; " },
        // Found by FuzzTests.FreshSeed: the generated field and the hand-written one collided.
        { "EPG0012", "a field the struct's own code declares", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public partial struct S { public int a; } " },
        { "EPG0013", "overlay of an unknown field", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")][NativeField(\"b\", \"int\", Overlays = \"c\")] public partial struct S; " },
        { "EPG0013", "overlay larger than its host", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")][NativeField(\"b\", \"uint64_t\", Overlays = \"a\")] public partial struct S; " },
        { "EPG0013", "overlay of an overlay", "[NativeStruct(\"s\")][NativeField(\"a\", \"uint64_t\")][NativeField(\"b\", \"int\", Overlays = \"a\")][NativeField(\"c\", \"short\", Overlays = \"b\")] public partial struct S; " },
        { "EPG0014", "flexible array before another field", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")][NativeField(\"name\", \"char[]\")][NativeField(\"b\", \"int\")] public partial struct S; " },
        { "EPG0015", "no fields", "[NativeStruct(\"s\")] public partial struct S; " },
        { "EPG0015", "only a flexible array", "[NativeStruct(\"s\")][NativeField(\"name\", \"char[]\")] public partial struct S; " },
        { "EPG0016", "field name that is no C identifier", "[NativeStruct(\"s\")][NativeField(\"1st\", \"int\")] public partial struct S; " },
        { "EPG0016", "field name the generated code reserves", "[NativeStruct(\"s\")][NativeField(\"Size\", \"int\")] public partial struct S; " },
        { "EPG0016", "struct tag that is no C identifier", "[NativeStruct(\"my-struct\")][NativeField(\"a\", \"int\")] public partial struct S; " },
        { "EPG0017", "readonly struct", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public readonly partial struct S; " },
        { "EPG0017", "ref struct", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public ref partial struct S; " },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void InvalidSpec_IsSkippedAndNamed(string expectedId, string what, string declaration)
    {
        CSharpCompilation compilation = GeneratorHarness.Compile([Prelude + declaration]);

        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out _);
        GeneratorDriverRunResult result = driver.GetRunResult();
        Assert.All(result.Results, r => Assert.Null(r.Exception));
        Assert.Empty(GeneratorHarness.Sources(result));
        Assert.Empty(output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));

        List<SpecError> errors = ReadAllSpecs(compilation);
        Assert.True(errors.Count > 0, $"{what}: the reader found nothing wrong");
        Assert.All(errors, e => Assert.Equal(expectedId, e.Id));
        Assert.All(errors, e => Assert.NotNull(e.Location));
    }

    [Fact]
    public void NativeStruct_WithoutAllowUnsafe_IsSkipped()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(
            [Prelude + "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public partial struct S;"],
            allowUnsafe: false);

        GeneratorDriverRunResult result = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult();

        Assert.Empty(GeneratorHarness.Sources(result));
        Assert.Empty(ReadAllSpecs(compilation));
    }

    [Fact]
    public void ValidSpecs_HaveNoErrors()
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(RuntimeSpecsTests.RuntimeSpecSources(), referenceRuntime: false);

        Assert.Empty(ReadAllSpecs(compilation));
    }

    // What the analyzer will do: read every spec in the compilation and collect the errors.
    internal static List<SpecError> ReadAllSpecs(Compilation compilation)
    {
        var errors = new List<SpecError>();
        foreach (INamedTypeSymbol type in compilation.GetSymbolsWithName(_ => true, SymbolFilter.Type).OfType<INamedTypeSymbol>())
        {
            FlagMapReader.Read(type, errors);
            NativeStructReader.Read(type, errors);
        }
        return errors;
    }
}
