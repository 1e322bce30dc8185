using EpollGen.Analyzers.Specs;
using EpollGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// Every reason the generator skips a spec, reported under its own id with the exact span: the type's
/// name for target problems, the offending attribute for everything else.
/// </summary>
public sealed class SpecRuleTests
{
    internal const string Prelude = """
        using System;
        using EpollGen;

        namespace Bad;

        [Flags] public enum A : uint { None = 0, X = 1, Y = 2, Both = 3, Z = 4 }
        [Flags] public enum B : uint { P = 1, Q = 2, R = 4 }
        public enum NoFlags : uint { X = 1 }

        """;

    // The generator tests' 36 bad specs (BadSpecTests), with the expected diagnostic marked.
    public static TheoryData<string, string> Cases() => new()
    {
        { "flag map on a class that is not partial", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)] public static class {|EPG0001:Map|} { }" },
        { "flag map inside a type that is not partial", "public static class Outer { [FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)] public static partial class {|EPG0001:Map|}; }" },
        { "native struct that is not partial", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public struct {|EPG0001:S|} { }" },
        { "flag map inside a generic type", "public partial class Outer<T> { [FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)] public static partial class {|EPG0002:Map|}; }" },
        { "source enum without [Flags]", "[{|EPG0003:FlagMap(typeof(NoFlags), typeof(B))|}] public static partial class Map;" },
        { "target that is not an enum", "[{|EPG0003:FlagMap(typeof(A), typeof(int))|}] public static partial class Map;" },
        { "target value that is no member", "[FlagMap(typeof(A), typeof(B))][{|EPG0004:FlagPair(A.X, (B)0x800)|}] public static partial class Map;" },
        { "plain integer instead of a member", "[FlagMap(typeof(A), typeof(B))][{|EPG0004:FlagPair(1, B.P)|}] public static partial class Map;" },
        { "member of the wrong enum", "[FlagMap(typeof(A), typeof(B))][{|EPG0004:FlagPair(B.P, B.P)|}] public static partial class Map;" },
        { "always-reported bits no member sets", "[{|EPG0004:FlagMap(typeof(A), typeof(B), AlwaysReported = (A)0x80)|}][FlagPair(A.X, B.P)] public static partial class Map;" },
        { "pair of a multi-bit member", "[FlagMap(typeof(A), typeof(B))][{|EPG0005:FlagPair(A.Both, B.P)|}] public static partial class Map;" },
        { "mode of the zero member", "[FlagMap(typeof(A), typeof(B))][{|EPG0005:FlagMode(A.None)|}] public static partial class Map;" },
        { "one source bit paired twice", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)][{|EPG0006:FlagPair(A.X, B.Q)|}] public static partial class Map;" },
        { "one target bit paired twice", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)][{|EPG0006:FlagPair(A.Y, B.P)|}] public static partial class Map;" },
        { "a paired bit that is also a mode", "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)][{|EPG0006:FlagMode(A.X)|}] public static partial class Map;" },
        { "a mode that is also unsupported", "[FlagMap(typeof(A), typeof(B))][FlagMode(A.Z)][{|EPG0006:FlagUnsupported(A.Z, \"no\")|}] public static partial class Map;" },
        { "always-reported bit that is not mapped", "[{|EPG0007:FlagMap(typeof(A), typeof(B), AlwaysReported = A.Y)|}][FlagPair(A.X, B.P)][FlagMode(A.Y)] public static partial class Map;" },
        { "long double", "[NativeStruct(\"s\")][{|EPG0010:NativeField(\"a\", \"long double\")|}] public partial struct S;" },
        { "struct by value", "[NativeStruct(\"s\")][{|EPG0010:NativeField(\"a\", \"struct timespec\")|}] public partial struct S;" },
        { "void", "[NativeStruct(\"s\")][{|EPG0010:NativeField(\"a\", \"void\")|}] public partial struct S;" },
        { "array of length zero", "[NativeStruct(\"s\")][{|EPG0010:NativeField(\"a\", \"int[0]\")|}] public partial struct S;" },
        { "unknown typedef", "[NativeStruct(\"s\")][{|EPG0010:NativeField(\"a\", \"my_handle_t\")|}] public partial struct S;" },
        { "natural size declared as packed", "[{|EPG0011:NativeStruct(\"e\", Size = 12)|}][NativeField(\"events\", \"uint32_t\")][NativeField(\"data\", \"uint64_t\")] public partial struct S;" },
        { "x86_64 size declared as natural", "[{|EPG0011:NativeStruct(\"e\", Packing = NativePacking.PackedOnX64, X64Size = 16)|}][NativeField(\"events\", \"uint32_t\")][NativeField(\"data\", \"uint64_t\")] public partial struct S;" },
        { "two fields of one name", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")][{|EPG0012:NativeField(\"a\", \"long\")|}] public partial struct S;" },
        { "overlay of an unknown field", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")][{|EPG0013:NativeField(\"b\", \"int\", Overlays = \"c\")|}] public partial struct S;" },
        { "overlay larger than its host", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")][{|EPG0013:NativeField(\"b\", \"uint64_t\", Overlays = \"a\")|}] public partial struct S;" },
        { "overlay of an overlay", "[NativeStruct(\"s\")][NativeField(\"a\", \"uint64_t\")][NativeField(\"b\", \"int\", Overlays = \"a\")][{|EPG0013:NativeField(\"c\", \"short\", Overlays = \"b\")|}] public partial struct S;" },
        { "flexible array before another field", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")][NativeField(\"name\", \"char[]\")][{|EPG0014:NativeField(\"b\", \"int\")|}] public partial struct S;" },
        { "no fields", "[{|EPG0015:NativeStruct(\"s\")|}] public partial struct S;" },
        { "only a flexible array", "[{|EPG0015:NativeStruct(\"s\")|}][NativeField(\"name\", \"char[]\")] public partial struct S;" },
        { "field name that is no C identifier", "[NativeStruct(\"s\")][{|EPG0016:NativeField(\"1st\", \"int\")|}] public partial struct S;" },
        { "field name the generated code reserves", "[NativeStruct(\"s\")][{|EPG0016:NativeField(\"Size\", \"int\")|}] public partial struct S;" },
        { "struct tag that is no C identifier", "[{|EPG0016:NativeStruct(\"my-struct\")|}][NativeField(\"a\", \"int\")] public partial struct S;" },
        { "readonly struct", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public readonly partial struct {|EPG0017:S|};" },
        { "ref struct", "[NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public ref partial struct {|EPG0017:S|};" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task InvalidSpec_IsReportedAtTheExactSpan(string what, string declaration)
    {
        _ = what;
        return Verify.Analyzer<SpecAnalyzer>(Prelude + declaration).RunAsync();
    }

    [Fact]
    public Task NativeStruct_WithoutAllowUnsafe_IsReportedOnTheSpec()
    {
        var test = Verify.Analyzer<SpecAnalyzer>(Prelude + "[{|EPG0018:NativeStruct(\"s\")|}][NativeField(\"a\", \"int\")] public partial struct S;");
        test.DisallowUnsafe();
        return test.RunAsync();
    }

    [Fact]
    public Task InvalidNativeStruct_WithoutAllowUnsafe_ReportsBothReasons()
    {
        var test = Verify.Analyzer<SpecAnalyzer>(Prelude + "[{|EPG0018:{|EPG0015:NativeStruct(\"s\")|}|}] public partial struct S;");
        test.DisallowUnsafe();
        return test.RunAsync();
    }

    [Fact]
    public Task Messages_NameTheCulprits()
    {
        var test = Verify.Analyzer<SpecAnalyzer>(Prelude + """
            [FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)][{|#0:FlagPair(A.X, B.Q)|}] public static partial class Map;
            [{|#1:FlagMap(typeof(NoFlags), typeof(B))|}] public static partial class Map2;
            [{|#2:NativeStruct("e", Size = 12)|}][NativeField("events", "uint32_t")][NativeField("data", "uint64_t")] public partial struct E;
            """);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.FlagOverlap).WithLocation(0).WithArguments("X", "A"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.FlagEnumWithoutFlags).WithLocation(1).WithArguments("Bad.NoFlags"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.NativeSizeMismatch).WithLocation(2).WithArguments("e", "Size", "12", "16"));
        return test.RunAsync();
    }

    [Fact]
    public Task BothSidesWithoutFlags_AreTwoDiagnostics()
    {
        var test = Verify.Analyzer<SpecAnalyzer>(Prelude + "public enum NoFlags2 { X = 1 }\n[{|#0:FlagMap(typeof(NoFlags), typeof(NoFlags2))|}] public static partial class Map;");
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.FlagEnumWithoutFlags).WithLocation(0).WithArguments("Bad.NoFlags"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.FlagEnumWithoutFlags).WithLocation(0).WithArguments("Bad.NoFlags2"));
        return test.RunAsync();
    }

    [Fact]
    public Task TypeWithBothSpecs_NotPartial_IsReportedOnce() =>
        Verify.Analyzer<SpecAnalyzer>(Prelude + "[FlagMap(typeof(A), typeof(B))][FlagPair(A.X, B.P)][NativeStruct(\"s\")][NativeField(\"a\", \"int\")] public struct {|EPG0001:S|} { }").RunAsync();
}
