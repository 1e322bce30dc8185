using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.CompilerServices;
using EpollGen.Generators.Common;
using EpollGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace EpollGen.Generators.Tests;

/// <summary>
/// The pipelines redo work only when a spec's meaning changes: unrelated edits leave every step
/// Cached or Unchanged and every output Cached; real edits make them Modified. Models hold no
/// symbols, syntax or compilations, so old compilations can be collected.
/// </summary>
public sealed class IncrementalityTests
{
    private const string Enums = """
        using System;
        namespace Inc;
        [Flags] public enum A : uint { X = 1, Y = 2, Z = 4 }
        [Flags] public enum B : uint { P = 4, Q = 8 }
        """;

    private const string Map = """
        using EpollGen;
        namespace Inc;
        [FlagMap(typeof(A), typeof(B))]
        [FlagPair(A.X, B.P)]
        [FlagPair(A.Y, B.Q)]
        [FlagMode(A.Z)]
        public static partial class AtoB;
        """;

    private const string Struct = """
        using EpollGen;
        namespace Inc;
        [NativeStruct("pair", Size = 16)]
        [NativeField("a", "int")]
        [NativeField("b", "long")]
        public partial struct Pair;
        """;

    private static readonly string[] OurSteps = typeof(TrackingNames)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToArray();

    [Fact]
    public void UnrelatedFileAdded_LeavesEveryStepCachedOrUnchanged()
    {
        GeneratorDriverRunResult second = RunThenEdit(c => c.AddSyntaxTrees(Parse("namespace Inc; public class Unrelated { public int X; }", "Unrelated.cs")));

        AssertAllSteps(second, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertOutputs(second, IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void CommentAddedToSpecFile_DoesNotModifyOutput()
    {
        GeneratorDriverRunResult second = RunThenEdit(c => Replace(c, "Map.cs", "// a comment about the map\n" + Map.Replace("[FlagMode(A.Z)]", "[FlagMode(A.Z)] // edge-triggered")));

        AssertAllSteps(second, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertOutputs(second, IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void EnumMemberAdded_ModifiesTheFlagMapOnly()
    {
        GeneratorDriverRunResult second = RunThenEdit(c => Replace(c, "Enums.cs", Enums.Replace("Z = 4 }", "Z = 4, W = 8 }")));

        AssertStep(second, TrackingNames.FlagMapValid, IncrementalStepRunReason.Modified);
        AssertStep(second, TrackingNames.NativeStructValid, IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged);
        AssertOutput(second, "Inc.AtoB.FlagMap.g.cs", IncrementalStepRunReason.Modified);
        AssertOutput(second, "Inc.Pair.NativeStruct.g.cs", IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void MappingChanged_ModifiesTheFlagMap()
    {
        GeneratorDriverRunResult second = RunThenEdit(c => Replace(c, "Map.cs", Map.Replace("[FlagPair(A.Y, B.Q)]", "[FlagUnsupported(A.Y, \"not here\")]")));

        AssertStep(second, TrackingNames.FlagMapValid, IncrementalStepRunReason.Modified);
        AssertOutput(second, "Inc.AtoB.FlagMap.g.cs", IncrementalStepRunReason.Modified);
        AssertOutput(second, "Inc.Pair.NativeStruct.g.cs", IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void FieldTypeChanged_ModifiesTheStructOnly()
    {
        GeneratorDriverRunResult second = RunThenEdit(c => Replace(c, "Struct.cs", Struct.Replace("\"long\"", "\"int64_t\"").Replace("\"a\", \"int\"", "\"a\", \"short\"")));

        AssertStep(second, TrackingNames.NativeStructValid, IncrementalStepRunReason.Modified);
        AssertOutput(second, "Inc.Pair.NativeStruct.g.cs", IncrementalStepRunReason.Modified);
        AssertOutput(second, "Inc.AtoB.FlagMap.g.cs", IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void AllowUnsafeChanged_RemovesTheStructOutput()
    {
        GeneratorDriverRunResult second = RunThenEdit(c => c.WithOptions(c.Options.WithAllowUnsafe(false)));

        Assert.Equal(["Inc.AtoB.FlagMap.g.cs"], GeneratorHarness.Sources(second).Select(s => s.HintName));
        AssertStep(second, TrackingNames.AllowUnsafe, IncrementalStepRunReason.Modified);
    }

    [Fact]
    public void StepOutputs_HoldNoSymbolsSyntaxOrCompilations()
    {
        GeneratorDriverRunResult result = RunThenEdit(c => c);

        foreach (GeneratorRunResult run in result.Results)
        {
            foreach ((string name, ImmutableArray<IncrementalGeneratorRunStep> steps) in run.TrackedSteps.Where(s => OurSteps.Contains(s.Key)))
            {
                foreach (IncrementalGeneratorRunStep step in steps)
                {
                    foreach ((object value, _) in step.Outputs)
                        AssertNoBannedObjects(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
                }
            }
        }
    }

    [Fact]
    public void SameSourcesInTwoCompilations_GiveEqualModels()
    {
        INamedTypeSymbol First(string metadataName) => Compilation().GetTypeByMetadataName(metadataName)!;

        FlagMapSpec? map1 = FlagMapReader.Read(First("Inc.AtoB"), null), map2 = FlagMapReader.Read(First("Inc.AtoB"), null);
        NativeStructSpec? struct1 = NativeStructReader.Read(First("Inc.Pair"), null), struct2 = NativeStructReader.Read(First("Inc.Pair"), null);

        Assert.NotNull(map1);
        Assert.Equal(map1, map2);
        Assert.Equal(map1!.GetHashCode(), map2!.GetHashCode());
        Assert.NotNull(struct1);
        Assert.Equal(struct1, struct2);
        Assert.Equal(struct1!.GetHashCode(), struct2!.GetHashCode());
    }

    [Fact]
    public void GeneratorRun_WithNewCompilation_DoesNotKeepOldCompilationAlive()
    {
        (GeneratorDriver driver, WeakReference old) = RunTwiceAndForgetTheFirst();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(old.IsAlive, "the driver's state keeps an old compilation alive");
        GC.KeepAlive(driver);
    }

    // The second compilation derives from the first, as an edit in the IDE does. (Roslyn 4.8's
    // attribute provider itself keeps a compilation alive when the next one shares no syntax tree.)
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (GeneratorDriver, WeakReference) RunTwiceAndForgetTheFirst()
    {
        CSharpCompilation compilation = Compilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        // Only the driver of the newer run stays reachable; its state must not root the older compilation.
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(Parse("namespace Inc; class Later { }", "Later.cs")));
        return (driver, new WeakReference(compilation));
    }

    private static CSharpCompilation Compilation() =>
        GeneratorHarness.Compile([]).AddSyntaxTrees(Parse(Enums, "Enums.cs"), Parse(Map, "Map.cs"), Parse(Struct, "Struct.cs"));

    private static SyntaxTree Parse(string text, string path) => CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, path);

    private static CSharpCompilation Replace(CSharpCompilation compilation, string path, string text) =>
        compilation.ReplaceSyntaxTree(compilation.SyntaxTrees.Single(t => t.FilePath == path), Parse(text, path));

    // Runs once, applies the edit, runs again with the returned driver (it holds the cache), and
    // checks the second run still produces clean code.
    private static GeneratorDriverRunResult RunThenEdit(Func<CSharpCompilation, CSharpCompilation> edit)
    {
        CSharpCompilation compilation = Compilation();
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        CSharpCompilation edited = edit(compilation);
        driver = driver.RunGeneratorsAndUpdateCompilation(edited, out Compilation output, out ImmutableArray<Diagnostic> diagnostics);
        Assert.Empty(diagnostics);
        GeneratorHarness.AssertCompilesClean(output);
        return driver.GetRunResult();
    }

    private static void AssertAllSteps(GeneratorDriverRunResult result, params IncrementalStepRunReason[] allowed)
    {
        foreach (string step in OurSteps)
            AssertStep(result, step, allowed);
    }

    private static void AssertStep(GeneratorDriverRunResult result, string step, params IncrementalStepRunReason[] allowed)
    {
        IncrementalGeneratorRunStep[] runs = result.Results
            .SelectMany(r => r.TrackedSteps.TryGetValue(step, out ImmutableArray<IncrementalGeneratorRunStep> s) ? s : [])
            .ToArray();
        Assert.True(runs.Length > 0, $"step '{step}' did not run");
        Assert.All(runs.SelectMany(r => r.Outputs), o => Assert.Contains(o.Reason, allowed));
    }

    private static void AssertOutputs(GeneratorDriverRunResult result, IncrementalStepRunReason expected) =>
        Assert.All(
            result.Results.SelectMany(r => r.TrackedOutputSteps.SelectMany(s => s.Value)).SelectMany(s => s.Outputs),
            o => Assert.Equal(expected, o.Reason));

    // An output step's value is the model it emitted from; find the one behind a hint name.
    private static void AssertOutput(GeneratorDriverRunResult result, string hintName, IncrementalStepRunReason expected)
    {
        var reasons = result.Results
            .SelectMany(r => r.TrackedOutputSteps.SelectMany(s => s.Value))
            .SelectMany(s => s.Inputs.SelectMany(i => i.Source.Outputs).Zip(s.Outputs, (input, output) => (Input: input.Value, output.Reason)))
            .Where(x => HintOf(x.Input) == hintName)
            .Select(x => x.Reason)
            .ToArray();
        Assert.True(reasons.Length == 1, $"expected one output for {hintName}, found {reasons.Length}");
        Assert.Equal(expected, reasons[0]);
    }

    private static string? HintOf(object model) => model switch
    {
        ValueTuple<FlagMapSpec, bool> pair => pair.Item1.Target.HintName("FlagMap"),
        NativeStructSpec spec => spec.Target.HintName("NativeStruct"),
        _ => null,
    };

    private static readonly Type[] Banned =
    [
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(Compilation),
        typeof(SemanticModel), typeof(AttributeData), typeof(SyntaxReference),
    ];

    private static void AssertNoBannedObjects(object? value, string path, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum || !seen.Add(value))
            return;
        Type type = value.GetType();
        Assert.False(Banned.Any(b => b.IsAssignableFrom(type)), $"{path} holds a {type.Name}");
        Assert.False(type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableArray<>), $"{path} holds an ImmutableArray, which compares by reference");
        Assert.False(type.IsArray, $"{path} holds an array, which compares by reference");
        if (value is IEnumerable items && type.Name.StartsWith("EquatableArray", StringComparison.Ordinal))
        {
            int i = 0;
            foreach (object? item in items)
                AssertNoBannedObjects(item, $"{path}[{i++}]", seen);
            return;
        }
        foreach (FieldInfo field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic))
        {
            if (field.FieldType.IsArray && type.Name.StartsWith("EquatableArray", StringComparison.Ordinal))
                continue;
            AssertNoBannedObjects(field.GetValue(value), path + "." + field.Name, seen);
        }
    }
}

