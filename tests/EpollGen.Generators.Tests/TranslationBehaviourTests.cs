using System.Reflection;
using System.Runtime.Loader;
using EpollGen.Generators.FlagMaps;
using EpollGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit;

namespace EpollGen.Generators.Tests;

/// <summary>
/// The generated translation runs and agrees with the pairs of its spec, in both emitted forms
/// (lookup tables and shifts), for enums of every width and signedness.
/// </summary>
public sealed class TranslationBehaviourTests
{
    public static TheoryData<string, string> Specs() => new()
    {
        { "runtime EpollTapMap", "EpollGen.Interop.EpollTapMap" },
        { "runtime TapPollMap", "EpollGen.Interop.TapPollMap" },
        {
            "signed bytes, high bit", """
            using System; using EpollGen;
            namespace T;
            [Flags] public enum S : sbyte { A = 1, B = 2, C = 4, D = 8, E = 16, H = -128 }
            [Flags] public enum D : byte { W = 0x80, X = 0x40, Y = 0x20, Z = 0x01, V = 0x08 }
            [FlagMap(typeof(S), typeof(D))]
            [FlagPair(S.A, D.W)] [FlagPair(S.B, D.X)] [FlagPair(S.C, D.Y)] [FlagPair(S.H, D.Z)] [FlagPair(S.E, D.V)]
            public static partial class Map;
            """
        },
        {
            "64-bit source, 32-bit target", """
            using System; using EpollGen;
            namespace T;
            [Flags] public enum S : ulong { A = 1UL, B = 1UL << 5, C = 1UL << 12, D = 1UL << 21, E = 1UL << 36, F = 1UL << 63 }
            [Flags] public enum D : uint { P = 1, Q = 2, R = 4, U = 8, V = 16, W = 0x80000000 }
            [FlagMap(typeof(S), typeof(D))]
            [FlagPair(S.A, D.P)] [FlagPair(S.B, D.Q)] [FlagPair(S.C, D.R)] [FlagPair(S.D, D.U)] [FlagPair(S.E, D.V)] [FlagPair(S.F, D.W)]
            public static partial class Map;
            """
        },
        {
            "signed int with sign bit, short target", """
            using System; using EpollGen;
            namespace T;
            [Flags] public enum S : int { A = 1, B = 2, C = 0x100, D = 0x4000, E = int.MinValue }
            [Flags] public enum D : short { P = 0x10, Q = 0x20, R = 0x40, U = 0x2000, V = short.MinValue }
            [FlagMap(typeof(S), typeof(D))]
            [FlagPair(S.A, D.V)] [FlagPair(S.B, D.U)] [FlagPair(S.C, D.R)] [FlagPair(S.D, D.Q)] [FlagPair(S.E, D.P)]
            public static partial class Map;
            """
        },
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void BothForms_TranslateAsThePairsSay(string what, string specOrRuntimeType)
    {
        (CSharpCompilation compilation, INamedTypeSymbol mapType, FlagMapSpec spec) = Read(what, specOrRuntimeType);

        foreach (bool tables in new[] { true, false })
        {
            string code = FlagMapEmitter.Emit(spec, tables);
            Assert.Equal(tables, code.Contains("ToTargetByte", StringComparison.Ordinal) || code.Contains("ToSourceByte", StringComparison.Ordinal));
            CSharpCompilation full = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText(code, GeneratorHarness.ParseOptions));
            GeneratorHarness.AssertCompilesClean(full);
            var context = new AssemblyLoadContext(what, isCollectible: true);
            try
            {
                using var image = new MemoryStream();
                Assert.True(full.Emit(image).Success);
                image.Position = 0;
                Type map = context.LoadFromStream(image).GetType(mapType.ToDisplayString().Replace("global::", ""), throwOnError: true)!;
                Check(map, "ToTarget", spec.Source, spec.Pairs.Select(p => (p.Source, p.Destination)).ToArray(), what, tables);
                Check(map, "ToSource", spec.Destination, spec.Pairs.Select(p => (p.Destination, p.Source)).ToArray(), what, tables);
            }
            finally
            {
                context.Unload();
            }
        }
    }

    // The table form allocates nothing once warm, in a consumer's Debug build too: an unoptimized
    // ReadOnlySpan<ushort> property of constants made a new array on every read (72 bytes for eight
    // entries), so each translation of a Debug build allocated.
    [Theory]
    [MemberData(nameof(Specs))]
    public void TableForm_AllocatesNothing_InDebugAndReleaseBuilds(string what, string specOrRuntimeType)
    {
        (CSharpCompilation compilation, INamedTypeSymbol mapType, FlagMapSpec spec) = Read(what, specOrRuntimeType);
        string map = mapType.ToDisplayString();
        string probe = $$"""
            public static class AllocationProbe
            {
                public static long BytesPer1000()
                {
                    long before = System.GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < 1000; i++)
                    {
                        global::{{map}}.ToTarget(unchecked(({{spec.Source.TypeName}})i));
                        global::{{map}}.ToSource(unchecked(({{spec.Destination.TypeName}})i));
                    }
                    return System.GC.GetAllocatedBytesForCurrentThread() - before;
                }
            }
            """;
        string code = FlagMapEmitter.Emit(spec, tablesAvailable: true);
        Assert.Contains("Byte0", code, StringComparison.Ordinal);
        foreach (OptimizationLevel level in new[] { OptimizationLevel.Debug, OptimizationLevel.Release })
        {
            CSharpCompilation full = compilation
                .WithOptions(compilation.Options.WithOptimizationLevel(level))
                .AddSyntaxTrees(CSharpSyntaxTree.ParseText(code, GeneratorHarness.ParseOptions), CSharpSyntaxTree.ParseText(probe, GeneratorHarness.ParseOptions));
            GeneratorHarness.AssertCompilesClean(full);
            var context = new AssemblyLoadContext($"{what} {level}", isCollectible: true);
            try
            {
                using var image = new MemoryStream();
                Assert.True(full.Emit(image).Success);
                image.Position = 0;
                MethodInfo bytes = context.LoadFromStream(image).GetType("AllocationProbe", throwOnError: true)!.GetMethod("BytesPer1000")!;
                bytes.Invoke(null, null);
                Assert.Equal(0L, (long)bytes.Invoke(null, null)!);
            }
            finally
            {
                context.Unload();
            }
        }
    }

    // A spec from Specs(): the runtime's own map by name, or a consumer's source declaring T.Map.
    private static (CSharpCompilation Compilation, INamedTypeSymbol MapType, FlagMapSpec Spec) Read(string what, string specOrRuntimeType)
    {
        bool runtime = specOrRuntimeType.StartsWith("EpollGen.", StringComparison.Ordinal);
        CSharpCompilation compilation = runtime
            ? GeneratorHarness.Compile(RuntimeSpecsTests.RuntimeSpecSources(), referenceRuntime: false)
            : GeneratorHarness.Compile([specOrRuntimeType]);
        INamedTypeSymbol mapType = runtime
            ? compilation.GetTypeByMetadataName(specOrRuntimeType)!
            : compilation.GetTypeByMetadataName("T.Map")!;
        FlagMapSpec spec = FlagMapReader.Read(mapType, null) ?? throw new InvalidOperationException($"{what}: invalid spec");
        return (compilation, mapType, spec);
    }

    // Every subset of the mapped bits (up to 2^16 of them), plus random noise in the other bits.
    private static void Check(Type map, string method, FlagEnum from, (ulong From, ulong To)[] pairs, string what, bool tables)
    {
        MethodInfo translate = map.GetMethod(method)!;
        Type enumType = translate.GetParameters()[0].ParameterType;
        var random = new Random(42);
        int subsets = 1 << Math.Min(pairs.Length, 16);
        for (int n = 0; n < subsets * 2; n++)
        {
            ulong value = 0, expected = 0;
            for (int i = 0; i < pairs.Length && i < 16; i++)
            {
                if ((n & (1 << i)) != 0)
                {
                    value |= pairs[i].From;
                    expected |= pairs[i].To;
                }
            }
            if (n >= subsets)
            {
                ulong noise = (ulong)random.NextInt64() & ~pairs.Aggregate(0UL, (m, p) => m | p.From);
                value |= from.Bits == 64 ? noise : noise & ((1UL << from.Bits) - 1);
            }
            object result = translate.Invoke(null, [Enum.ToObject(enumType, value)])!;
            ulong actual = FlagMapReader.ToBits(Convert.ChangeType(result, Enum.GetUnderlyingType(result.GetType())), 64)!.Value;
            ulong width = Enum.GetUnderlyingType(result.GetType()) switch
            {
                Type t when t == typeof(byte) || t == typeof(sbyte) => 0xFF,
                Type t when t == typeof(short) || t == typeof(ushort) => 0xFFFF,
                Type t when t == typeof(int) || t == typeof(uint) => 0xFFFF_FFFF,
                _ => ulong.MaxValue,
            };
            Assert.True((actual & width) == expected, $"{what}, {(tables ? "tables" : "shifts")}: {method}(0x{value:x}) gave 0x{actual & width:x}, the pairs say 0x{expected:x}");
        }
    }
}
