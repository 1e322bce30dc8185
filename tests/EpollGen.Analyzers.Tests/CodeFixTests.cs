using EpollGen.Analyzers.CodeFixes;
using EpollGen.Analyzers.Specs;
using EpollGen.Analyzers.Tests.Infrastructure;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>The two unambiguous fixes: add <c>partial</c> (EPG0001) and add <c>[Flags]</c> (EPG0003); fixed code exact.</summary>
public sealed class CodeFixTests
{
    private const string Enums = """
        using System;
        using EpollGen;

        namespace Fix;

        [Flags] public enum A : uint { X = 1, Y = 2 }
        [Flags] public enum B : uint { P = 1, Q = 2 }

        """;

    [Fact]
    public Task NotPartialFlagMap_GetsPartial() =>
        Verify.CodeFix<SpecAnalyzer, MakePartialCodeFix>(
            Enums + """
            [FlagMap(typeof(A), typeof(B))]
            [FlagPair(A.X, B.P)]
            public static class {|EPG0001:Map|}
            {
            }
            """,
            Enums + """
            [FlagMap(typeof(A), typeof(B))]
            [FlagPair(A.X, B.P)]
            public static partial class Map
            {
            }
            """).RunAsync();

    [Fact]
    public Task NestedTarget_GetsPartialOnEveryContainingTypeToo() =>
        Verify.CodeFix<SpecAnalyzer, MakePartialCodeFix>(
            Enums + """
            public class Outer
            {
                internal sealed class Middle
                {
                    [NativeStruct("pair")]
                    [NativeField("a", "int")]
                    public readonly struct {|EPG0001:Pair|}
                    {
                    }
                }
            }
            """,
            Enums + """
            public partial class Outer
            {
                internal sealed partial class Middle
                {
                    [NativeStruct("pair")]
                    [NativeField("a", "int")]
                    public readonly partial struct {|EPG0017:Pair|}
                    {
                    }
                }
            }
            """).RunAsync();

    [Fact]
    public Task TargetWithoutModifiers_GetsPartialBeforeTheKeyword() =>
        Verify.CodeFix<SpecAnalyzer, MakePartialCodeFix>(
            """
            using EpollGen;

            namespace Inner
            {
                [NativeStruct("s")]
                [NativeField("a", "int")]
                // The comment stays where it was.
                struct {|EPG0001:S|}
                {
                }
            }
            """,
            """
            using EpollGen;

            namespace Inner
            {
                [NativeStruct("s")]
                [NativeField("a", "int")]
                // The comment stays where it was.
                partial struct S
                {
                }
            }
            """).RunAsync();

    [Fact]
    public Task EnumWithoutFlags_GetsFlags() =>
        Verify.CodeFix<SpecAnalyzer, AddFlagsCodeFix>(
            """
            using System;
            using EpollGen;

            namespace Fix;

            public enum Wanted : uint { Read = 1, Write = 2 }
            [Flags] public enum Ready : uint { In = 1, Out = 4 }

            [{|EPG0003:FlagMap(typeof(Wanted), typeof(Ready))|}]
            [FlagPair(Wanted.Read, Ready.In)]
            public static partial class Map;
            """,
            """
            using System;
            using EpollGen;

            namespace Fix;

            [Flags]
            public enum Wanted : uint { Read = 1, Write = 2 }
            [Flags] public enum Ready : uint { In = 1, Out = 4 }

            [FlagMap(typeof(Wanted), typeof(Ready))]
            [FlagPair(Wanted.Read, Ready.In)]
            public static partial class Map;
            """).RunAsync();

    [Fact]
    public Task EnumWithoutFlags_WithoutUsingSystem_GetsQualifiedFlags() =>
        Verify.CodeFix<SpecAnalyzer, AddFlagsCodeFix>(
            """
            namespace Fix
            {
                /// <summary>Ready bits.</summary>
                public enum Ready : uint { In = 1, Out = 4 }

                [System.Flags] public enum Wanted : uint { Read = 1, Write = 2 }

                [{|EPG0003:EpollGen.FlagMap(typeof(Wanted), typeof(Ready))|}]
                [EpollGen.FlagPair(Wanted.Read, Ready.In)]
                public static partial class Map { }
            }
            """,
            """
            namespace Fix
            {
                /// <summary>Ready bits.</summary>
                [System.Flags]
                public enum Ready : uint { In = 1, Out = 4 }

                [System.Flags] public enum Wanted : uint { Read = 1, Write = 2 }

                [EpollGen.FlagMap(typeof(Wanted), typeof(Ready))]
                [EpollGen.FlagPair(Wanted.Read, Ready.In)]
                public static partial class Map { }
            }
            """).RunAsync();

    [Fact]
    public Task TypeThatIsNoEnum_HasNoFix()
    {
        string source = Enums + "[{|EPG0003:FlagMap(typeof(A), typeof(int))|}] public static partial class Map;";
        return Verify.CodeFix<SpecAnalyzer, AddFlagsCodeFix>(source, source).RunAsync();
    }

    [Fact]
    public Task EnumFromAnotherAssembly_HasNoFix()
    {
        // System.DayOfWeek is not [Flags] and cannot be edited here.
        string source = Enums + "[{|EPG0003:FlagMap(typeof(A), typeof(DayOfWeek))|}] public static partial class Map;";
        return Verify.CodeFix<SpecAnalyzer, AddFlagsCodeFix>(source, source).RunAsync();
    }
}
