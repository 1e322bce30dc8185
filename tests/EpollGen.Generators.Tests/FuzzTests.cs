using System.Collections.Immutable;
using System.Text;
using EpollGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;
using Xunit.Abstractions;

namespace EpollGen.Generators.Tests;

/// <summary>
/// The generators and the spec reader never throw, whatever the source: malformed, half-typed and
/// nonsensical specs are skipped, and nothing they emit adds an error. Fixed seeds, plus one fresh
/// seed per run that the failure message prints.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const string Prelude = """
        using System;
        using EpollGen;
        namespace Fuzz;
        [Flags] public enum A : uint { None = 0, X = 1, Y = 2, Both = 3, Z = 4, High = 0x80000000 }
        [Flags] public enum B : sbyte { P = 1, Q = 2, R = 4, S = -128 }
        public enum Plain { One = 1 }

        """;

    private static readonly string[] Values =
    [
        "A.X", "A.Y", "A.Z", "A.Both", "A.None", "A.High", "A.X | A.Y", "B.P", "B.S", "(B)0x40", "(A)0x400", "1", "-1", "null",
        "\"EPOLLIN\"", "typeof(A)", "typeof(B)", "typeof(Plain)", "typeof(int)", "typeof(Missing)", "Plain.One", "default", "A.", "",
        "new[] { 1 }", "nameof(A.X)", "0x7fffffff", "(A)(-1)", "1.5", "'c'",
    ];

    private static readonly string[] CTypes =
    [
        "int", "uint32_t", "unsigned long long", "char[]", "char[3]", "void *", "struct x *", "long double", "void", "",
        "int[0]", "int[-1]", "int[99999999999]", "uint32_t[[2]]", "*", "struct", "unsigned long long long", "const volatile int",
        "int **", "bool[5]", "size_t[2]", "__u64", "double[1]", "int[2][3]", "   ", "int[", "]", "my_t", "sigset_t *",
    ];

    private static readonly string[] Names = ["a", "b", "data", "event", "Size", "1x", "", "a b", "class", "ptr", "x_y", "Offsets", "S", "__pad"];

    [Theory]
    [InlineData(1, 150)]
    [InlineData(2, 150)]
    [InlineData(3, 150)]
    public void FixedSeeds_NeverThrowNorEmitBrokenCode(int seed, int cases)
    {
        int generated = Fuzz(seed, cases);
        output.WriteLine($"seed {seed}: {generated} generated files from {cases} cases");

        // A fuzzer whose every case is rejected early would test nothing past the reader.
        Assert.True(generated >= cases / 20, $"only {generated} of {cases} cases generated code");
    }

    // Half-typed declarations whose name is still missing: the compiler reports the syntax error,
    // and the generators must emit nothing (a fresh seed once produced "Fuzz..FlagMap.g.cs").
    [Theory]
    [InlineData("[FlagMap(typeof(A), typeof(B))]\n[FlagPair(A.X, B.P)]\npublic static partial class ")]
    [InlineData("public static partial class Outer { [FlagMap(typeof(A), typeof(B))] [FlagPair(A.X, B.P)] public static partial class  }")]
    [InlineData("[NativeStruct(\"s\")]\n[NativeField(\"a\", \"int\")]\npublic partial struct ")]
    public void TypeWithoutAName_GeneratesNothing(string spec)
    {
        Assert.Equal(0, Check(Prelude + spec));
    }

    [Fact]
    public void FreshSeed_NeverThrowsNorEmitsBrokenCode()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"fuzz seed {seed}");
        Fuzz(seed, 100);
    }

    private static int Fuzz(int seed, int cases)
    {
        var random = new Random(seed);
        int generated = 0;
        for (int i = 0; i < cases; i++)
        {
            string source = Prelude + (random.Next(2) == 0 ? FlagMap(random) : NativeStruct(random));
            if (random.Next(4) == 0)
                source = Mangle(source, random);
            try
            {
                generated += Check(source);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}, case {i}:\n{source}\n\n{e}");
            }
        }
        return generated;
    }

    // Returns how many files the generators emitted for the source.
    private static int Check(string source)
    {
        CSharpCompilation compilation = GeneratorHarness.Compile([source]);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out Compilation updated, out ImmutableArray<Diagnostic> diagnostics);

        Assert.All(driver.GetRunResult().Results, r => Assert.Null(r.Exception));
        Assert.DoesNotContain(diagnostics, d => d.Id is "CS8784" or "CS8785");
        var generatedTrees = updated.SyntaxTrees.Except(compilation.SyntaxTrees).ToHashSet();
        Diagnostic[] broken = updated.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree is { } tree && generatedTrees.Contains(tree))
            .ToArray();
        Assert.True(broken.Length == 0, "generated code has errors:\n" + string.Join("\n", broken.Select(d => d.ToString())));

        // The analyzer's path: the same reader, collecting errors, must not throw either.
        BadSpecTests.ReadAllSpecs(compilation);
        return generatedTrees.Count;
    }

    // Each part is usually plausible and sometimes wild, so cases get past the reader often enough
    // for the emitters to be fuzzed too.
    private static string FlagMap(Random random)
    {
        string SourceBit() => Usually(random, Pick(random, "A.X", "A.Y", "A.Z", "A.High"));
        string TargetBit() => Usually(random, Pick(random, "B.P", "B.Q", "B.R", "B.S"));
        var text = new StringBuilder();
        text.Append($"[FlagMap({Usually(random, "typeof(A)")}, {Usually(random, "typeof(B)")}");
        if (random.Next(3) == 0)
            text.Append($", AlwaysReported = {SourceBit()}");
        text.Append(")]\n");
        for (int n = random.Next(6); n > 0; n--)
        {
            text.Append(random.Next(4) switch
            {
                0 => $"[FlagMode({SourceBit()})]\n",
                1 => $"[FlagUnsupported({SourceBit()}, {Usually(random, "\"why\"")})]\n",
                _ => $"[FlagPair({SourceBit()}, {TargetBit()})]\n",
            });
        }
        text.Append(random.Next(2) == 0 ? "public static partial class Map;" : Pick(random, "public static partial class Map;", "public partial struct Map;", "public class Map { }", "public partial interface Map { }",
            "public static partial class Outer { public static partial class Map; }", "public partial class G<T> { public static partial class Map; }",
            "public partial record Map;", "public partial record struct Map;"));
        return text.ToString();
    }

    private static string NativeStruct(Random random)
    {
        var text = new StringBuilder();
        text.Append($"[NativeStruct({Usually(random, Pick(random, "\"s\"", "\"epoll_event\"", "\"\"", "\"bad name\"", "null"))}");
        if (random.Next(2) == 0)
            text.Append($", Packing = {Pick(random, "NativePacking.Natural", "NativePacking.Packed", "NativePacking.PackedOnX64", "(NativePacking)7", "(NativePacking)(-1)")}");
        if (random.Next(3) == 0)
            text.Append($", Size = {random.Next(-4, 80)}");
        if (random.Next(3) == 0)
            text.Append($", X64Size = {random.Next(-4, 80)}");
        text.Append(")]\n");
        var declared = new List<string>();
        for (int n = random.Next(7); n > 0; n--)
        {
            string name = random.Next(5) == 0 ? Names[random.Next(Names.Length)] : "f" + declared.Count;
            string overlay = random.Next(5) == 0 && declared.Count > 0 ? $", Overlays = \"{declared[random.Next(declared.Count)]}\"" : "";
            string type = random.Next(10) == 0 ? Any(random)
                : "\"" + (random.Next(3) == 0 ? CTypes[random.Next(CTypes.Length)] : Pick(random, "int", "uint8_t", "uint16_t", "uint64_t", "void *", "bool", "char[7]", "double")) + "\"";
            text.Append($"[NativeField(\"{name}\", {type}{overlay})]\n");
            declared.Add(name);
        }
        text.Append(random.Next(2) == 0 ? "public partial struct S;" : Pick(random, "public partial struct S;", "public readonly partial struct S;", "public ref partial struct S;", "public partial class S;",
            "public struct S { }", "public partial struct S { public int a; }", "public static partial class Outer { public partial struct S; }", "partial struct S;"));
        return text.ToString();
    }

    // Half-typed code: a cut, a dropped character, or a doubled line.
    private static string Mangle(string source, Random random)
    {
        int at = random.Next(Prelude.Length, source.Length);
        return random.Next(3) switch
        {
            0 => source.Substring(0, at),
            1 => source.Remove(at, 1),
            _ => source.Insert(at, source.Substring(at, Math.Min(40, source.Length - at))),
        };
    }

    private static string Usually(Random random, string plausible) => random.Next(6) == 0 ? Any(random) : plausible;

    private static string Any(Random random) => Values[random.Next(Values.Length)];

    private static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];
}
