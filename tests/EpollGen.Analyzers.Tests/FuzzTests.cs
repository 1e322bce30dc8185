using System.Collections.Immutable;
using EpollGen.Analyzers.CodeFixes;
using EpollGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// No analyzer ever throws (AD0001), whatever the code: malformed and half-typed versions of specs,
/// P/Invoke declarations and epoll calls, cut, spliced and salted with the tokens that break attribute
/// binding and constant folding. The code fixes run on whatever EPG0001/EPG0003/EPG0100–EPG0102/EPG0107 such
/// code still gets. Deterministic (fixed seeds).
/// </summary>
public sealed class FuzzTests
{
    private static readonly string[] Salt =
    [
        "(", ")", "[", "]", "{", "}", ",", ";", "\"", "typeof(", "typeof()", "null", "default", "partial", "struct",
        "class", "enum", "<T>", "0x", "EpollGen.", "unsafe", "*", "ref", "readonly", "static", "Overlays =",
        "AlwaysReported =", "Size =", "Packing =", "(A)", "-1", "int.MaxValue", "[Flags]", "FlagPair(", "NativeField(",
        "delegate*<void>", "?", "!", "=>", "__arglist", "#if X", "/*", "//", "@", "$\"", "\"\"\"", "\n",
        "|", "&", "~", "EpollEvents.", "EPOLLET", "(EpollEvents)", "(uint)", "Fd", "Epoll.EPOLL_CTL_ADD", "&ev", "out _", "events:",
    ];

    /// <summary>Epoll calls that reach every usage rule and every shape the analyzer follows.</summary>
    private const string UsageSeed = """
        using System;
        using EpollGen;
        using EpollGen.Interop;
        using static EpollGen.Interop.EpollEvents;
        static unsafe class Use
        {
            static readonly EpollSet s_other = new();
            const EpollEvents Mask = EPOLLIN | EPOLLOUT;
            static void Run(EpollSet set, int fd, int epfd, void* buffer)
            {
                set.Add(fd, EpollEvents.EPOLLIN, 0);
                set.Modify(fd, Mask | EPOLLEXCLUSIVE, 1);
                set.TryAdd(set.Fd, EPOLLIN | EPOLLMSG | EPOLLET, 2, out _);
                set.Add(s_other.Fd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 3);
                EpollEvent ev = new EpollEvent { events = (uint)(EPOLLIN | EPOLLRDHUP), data = 4 };
                Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev);
                Epoll.epoll_ctl(epfd, 7, epfd, &ev);
                Epoll.epoll_wait(epfd, buffer, 0, -300);
                Epoll.epoll_pwait2(epfd, buffer, -1, null, null);
                if (!set.TryAdd(fd, Mask | EPOLLET, 5, out int errno) && errno == 17)
                    set.TryAdd(fd, Mask | EPOLLET, 5, out _);
                try { set.Add(fd, EPOLLIN | EPOLLET, 6); }
                catch (EpollException e) when (e.Errno is 17) { set.Add(fd, EPOLLIN | EPOLLET, 6); }
                if (Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 17)
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev);
            }
        }
        """;

    private static readonly string[] Seeds = BuildSeeds();

    public static TheoryData<int> Rounds() => new() { 1, 2, 3, 4 };

    [Theory]
    [MemberData(nameof(Rounds))]
    public async Task MalformedSources_NeverMakeAnAnalyzerThrow(int round)
    {
        var random = new Random(20251125 + round);
        var failures = new List<string>();
        for (int i = 0; i < 60; i++)
        {
            string source = Mutate(Seeds[random.Next(Seeds.Length)], random);
            var compilation = Compilations.Create([source], allowUnsafe: random.Next(4) != 0);
            var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(compilation);
            foreach (Exception e in exceptions)
                failures.Add($"{e.GetType().Name}: {e.Message}\n--- source ---\n{source}");
            foreach (Diagnostic d in diagnostics.Where(d => d.Id == "AD0001"))
                failures.Add($"{d}\n--- source ---\n{source}");
            await ApplyFixesAsync(source, diagnostics, failures);
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(3)));
    }

    [Fact]
    public async Task EveryPrefixOfASpecFile_IsSafe()
    {
        // Half-typed: the specs typed one character at a time (every 3rd prefix, to stay quick).
        string seed = SpecRuleTests.Prelude + """
            [FlagMap(typeof(A), typeof(B), AlwaysReported = A.X)][FlagPair(A.X, B.P)][FlagMode(A.Y)][FlagUnsupported(A.Z, "no")]
            public static partial class Map;
            [NativeStruct("e", Packing = NativePacking.PackedOnX64, Size = 16, X64Size = 12)]
            [NativeField("events", "uint32_t")][NativeField("data", "uint64_t")][NativeField("fd", "int", Overlays = "data")]
            public partial struct E;
            """;
        var failures = new List<string>();
        for (int length = SpecRuleTests.Prelude.Length; length <= seed.Length; length += 3)
        {
            string source = seed.Substring(0, length);
            var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(Compilations.Create([source]));
            failures.AddRange(exceptions.Select(e => $"{length}: {e}"));
            failures.AddRange(diagnostics.Where(d => d.Id == "AD0001").Select(d => $"{length}: {d}"));
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(3)));
    }

    [Fact]
    public async Task EveryPrefixOfAnEpollCallFile_IsSafe()
    {
        var failures = new List<string>();
        for (int length = 0; length <= UsageSeed.Length; length += 4)
        {
            string source = UsageSeed.Substring(0, length);
            var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(Compilations.Create([source]));
            failures.AddRange(exceptions.Select(e => $"{length}: {e}"));
            failures.AddRange(diagnostics.Where(d => d.Id == "AD0001").Select(d => $"{length}: {d}"));
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(3)));
    }

    private static string[] BuildSeeds()
    {
        var seeds = new List<string>();
        foreach (object[] row in SpecRuleTests.Cases())
            seeds.Add(SpecRuleTests.Prelude + Unmark((string)row[1]));
        seeds.Add("""
            using System;
            using System.Runtime.InteropServices;
            [StructLayout(LayoutKind.Explicit, Pack = 1, Size = 12)] struct Ev { [FieldOffset(0)] public uint events; [FieldOffset(4)] public ulong data; }
            struct Ev2 { public int events; public long data; }
            static unsafe partial class Native
            {
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W(int epfd, Ev* e, int n, int t);
                [DllImport("libc")] public static extern int epoll_ctl(int epfd, int op, int fd, ref Ev2 ev);
                [LibraryImport("libc")] public static partial int epoll_pwait2(int epfd, Span<Ev2> e, int n, IntPtr t, IntPtr s);
            }
            """);
        seeds.Add("""
            using System;
            using EpollGen;
            namespace N;
            [Flags] public enum W : byte { R = 1, Wr = 2, E = 0x80 }
            [Flags] public enum Rd : long { In = 1L << 40, Out = 1L << 63 }
            public partial class Outer { [FlagMap(typeof(W), typeof(Rd))][FlagPair(W.R, Rd.In)][FlagPair(W.Wr, Rd.Out)][FlagMode(W.E)] public static partial class Map; }
            [NativeStruct("hdr", Packing = NativePacking.Packed, Size = 7)][NativeField("kind", "uint8_t")][NativeField("len", "uint16_t")][NativeField("seq", "uint32_t")][NativeField("body", "char[]")] public partial struct Hdr;
            """);
        seeds.Add(UsageSeed);
        seeds.Add(UsageSeed);
        return seeds.ToArray();
    }

    // Removes {|ID:...|} markup, keeping the text inside.
    private static string Unmark(string markup) =>
        System.Text.RegularExpressions.Regex.Replace(markup, @"\{\|[A-Z0-9#]+:", "").Replace("|}", "");

    private static string Mutate(string seed, Random random)
    {
        string s = seed;
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && s.Length > 0; e++)
        {
            int at = random.Next(s.Length);
            switch (random.Next(5))
            {
                case 0: // half-typed: cut the rest
                    s = s.Substring(0, at);
                    break;
                case 1: // delete a span
                    s = s.Remove(at, Math.Min(s.Length - at, 1 + random.Next(12)));
                    break;
                case 2: // insert salt
                    s = s.Insert(at, Salt[random.Next(Salt.Length)]);
                    break;
                case 3: // duplicate a span somewhere else
                    int len = Math.Min(s.Length - at, 1 + random.Next(40));
                    s = s.Insert(random.Next(s.Length), s.Substring(at, len));
                    break;
                default: // swap a span for salt
                    s = s.Remove(at, Math.Min(s.Length - at, 1 + random.Next(6))).Insert(at, Salt[random.Next(Salt.Length)]);
                    break;
            }
        }
        return s;
    }

    private static async Task ApplyFixesAsync(string source, ImmutableArray<Diagnostic> diagnostics, List<string> failures)
    {
        Diagnostic[] fixable = diagnostics.Where(d => d.Id is DiagnosticIds.TargetNotPartial or DiagnosticIds.FlagEnumWithoutFlags
            or DiagnosticIds.LevelTriggeredRegistration or DiagnosticIds.UnsupportedEpollFlag or DiagnosticIds.EpollFlagRejected
            or DiagnosticIds.AddRetriedAfterExists).ToArray();
        if (fixable.Length == 0)
            return;
        using var workspace = new AdhocWorkspace();
        Project project = workspace.CurrentSolution
            .AddProject("Consumer", "Consumer", LanguageNames.CSharp)
            .WithCompilationOptions(new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true))
            .WithParseOptions(CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest))
            .AddMetadataReferences(Compilations.Framework.Append(Verify.EpollGenRuntime));
        Document document = project.AddDocument("File0.cs", SourceText.From(source));
        SyntaxTree tree = (await document.GetSyntaxTreeAsync())!;
        CodeFixProvider[] providers = [new MakePartialCodeFix(), new AddFlagsCodeFix(), new AddEdgeTriggeredCodeFix(), new RemoveEpollFlagCodeFix(), new UseModifyCodeFix()];
        foreach (Diagnostic diagnostic in fixable)
        {
            Diagnostic mapped = Diagnostic.Create(
                diagnostic.Descriptor,
                Location.Create(tree, diagnostic.Location.SourceSpan),
                diagnostic.AdditionalLocations.Select(l => Location.Create(tree, l.SourceSpan)),
                diagnostic.Properties);
            foreach (CodeFixProvider provider in providers.Where(p => p.FixableDiagnosticIds.Contains(diagnostic.Id)))
            {
                try
                {
                    var actions = new List<CodeAction>();
                    await provider.RegisterCodeFixesAsync(new CodeFixContext(document, mapped, (a, _) => actions.Add(a), CancellationToken.None));
                    foreach (CodeAction action in actions)
                        await action.GetOperationsAsync(CancellationToken.None);
                }
                catch (Exception e)
                {
                    failures.Add($"{provider.GetType().Name}: {e}\n--- source ---\n{source}");
                }
            }
        }
    }
}
