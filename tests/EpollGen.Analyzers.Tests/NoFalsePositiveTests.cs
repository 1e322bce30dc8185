using EpollGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// Realistic code stays quiet: the runtime's own specs, libc declarations and epoll implementation,
/// the integration tests' consumer specs (inotify, io_uring, packed wire headers), and clean epoll
/// code written the ways consumers write it, analysed as a consumer would compile them. The runtime's
/// own EpollSet tests call the API wrongly on purpose; they are not a clean corpus, and are only
/// checked for analyzer crashes and for reporting nothing but usage rules.
/// </summary>
public sealed class NoFalsePositiveTests
{
    [Theory]
    [InlineData("src/Runtime")]
    [InlineData("tests/EpollGen.IntegrationTests")]
    [InlineData("samples/EpollGen.Tables")]
    public async Task RepositorySources_GetNoEpollGenDiagnostic(string folder)
    {
        string root = Path.Combine(TestPaths.RepositoryRoot, folder);
        string[] files = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToArray();
        Assert.NotEmpty(files);

        // Generated members are absent (no generator runs here), so the compilation has errors; the
        // analyzers must judge the specs regardless, and find nothing wrong.
        var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(Compilations.Create(files.Select(File.ReadAllText)));

        Assert.Empty(exceptions);
        Assert.Empty(diagnostics.Where(d => d.Id.StartsWith("EPG", StringComparison.Ordinal) || d.Id == "AD0001").Select(d => d.ToString()));

        // Not vacuous: the same compilation with one bad spec added reports exactly that spec.
        const string bad = "[EpollGen.NativeStruct(\"bad\")][EpollGen.NativeField(\"a\", \"long double\")] public partial struct BadSpecProbe;";
        var (probe, _) = await Compilations.AnalyzeAsync(Compilations.Create(files.Select(File.ReadAllText).Append(bad)));
        Assert.Equal([DiagnosticIds.NativeFieldTypeNotFixed], probe.Where(d => d.Id.StartsWith("EPG", StringComparison.Ordinal)).Select(d => d.Id));
    }

    /// <summary>Clean epoll code: edge-triggered loops, one-shot workers, a C port, nested sets.</summary>
    public const string RealisticEpollCode = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using EpollGen;
        using EpollGen.Interop;
        using static EpollGen.Interop.EpollEvents;

        public sealed class EchoServer : IDisposable
        {
            private const EpollEvents ClientMask = EPOLLIN | EPOLLRDHUP | EPOLLET;
            private readonly EpollSet _set = new();
            private readonly EpollEvent[] _events = new EpollEvent[256];

            public void Accept(int listener) => _set.Add(listener, EpollEvents.EPOLLIN | EpollEvents.EPOLLET | EpollEvents.EPOLLEXCLUSIVE, (ulong)listener);

            public void Track(int client) => _set.Add(client, ClientMask, (ulong)client);

            // Add, or update a registration that exists: the MOD after EEXIST is the right retry.
            public void Upsert(int fd, EpollEvents mask)
            {
                if (!_set.TryAdd(fd, mask | EPOLLET, (ulong)fd, out int errno) && errno == 17)
                    _set.Modify(fd, mask | EPOLLET, (ulong)fd);
                try
                {
                    _set.Add(fd, EPOLLOUT | EPOLLET, 0);
                }
                catch (EpollException e) when (e.Errno == 17)
                {
                    _set.Modify(fd, EPOLLOUT | EPOLLET, 0);
                }
            }

            public void WantWrite(int client, bool pending) =>
                _set.Modify(client, pending ? ClientMask | EPOLLOUT : ClientMask, (ulong)client);

            public bool TryRearm(int client, EpollEvents extra) => _set.TryModify(client, ClientMask | extra, (ulong)client, out _);

            public async Task<int> PumpAsync(CancellationToken token)
            {
                int n = await _set.WaitAsync(_events, TimeSpan.FromMilliseconds(250), token);
                for (int i = 0; i < n; i++)
                {
                    if ((_events[i].events & (uint)EPOLLRDHUP) != 0)
                        _set.Remove((int)_events[i].data);
                }
                return n;
            }

            public int PollOnce() => _set.Wait(_events, TimeSpan.Zero);

            public void Dispose() => _set.Dispose();
        }

        public sealed class WorkerPool
        {
            private readonly EpollSet _set = new();

            // Level-triggered one-shot: each fd goes to one worker, re-armed when it is done with it.
            public void Submit(int fd) => _set.Add(fd, EPOLLIN | EPOLLONESHOT, (ulong)fd);

            public void Done(int fd) => _set.Modify(fd, EPOLLIN | EPOLLONESHOT, (ulong)fd);

            public void Nest(EpollSet inner) => _set.Add(inner.Fd, EPOLLIN | EPOLLET, 0);

            public void Watch(int fd, EpollEvents mask, bool edge) => _set.Add(fd, edge ? mask | EPOLLET : mask, 0);
        }

        public static unsafe class CPort
        {
            public static int Loop(int listener, int timeoutMs)
            {
                int epfd = Epoll.epoll_create1(Epoll.EPOLL_CLOEXEC);
                if (epfd < 0)
                    return -1;
                EpollEvent ev = new EpollEvent { events = (uint)(EPOLLIN | EPOLLET), data = (ulong)listener };
                if (Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, listener, &ev) < 0)
                    return -1;
                byte* buffer = stackalloc byte[64 * EpollEvent.NativeSize];
                int ready = Epoll.epoll_wait(epfd, buffer, 64, timeoutMs);
                ready += Epoll.epoll_wait(epfd, buffer, 64, Timeout.Infinite);
                ready += Epoll.epoll_pwait(epfd, buffer, 64, 0, null);
                Timespec limit = new() { tv_sec = 1 };
                ready += Epoll.epoll_pwait2(epfd, buffer, 64, &limit, null);
                EpollEvent rearm = default;
                rearm.events = (uint)EPOLLIN;
                Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_MOD, listener, &rearm);
                Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_DEL, listener, null);
                Epoll.close(epfd);
                return ready;
            }

            public static int Control(int epfd, int op, int fd, EpollEvents mask, int max)
            {
                EpollEvent ev = new() { events = (uint)mask };
                byte* buffer = stackalloc byte[16 * EpollEvent.NativeSize];
                return Epoll.epoll_ctl(epfd, op, fd, &ev) + Epoll.epoll_wait(epfd, buffer, Math.Min(max, 16), -1);
            }
        }
        """;

    [Fact]
    public async Task RealisticEpollCode_GetsNoDiagnostic_AndOneBadCallIsStillSeen()
    {
        // It compiles, so the quiet is the rules' verdict, not a binding failure.
        var compilation = Compilations.Create([RealisticEpollCode]);
        Assert.Empty(compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));

        var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(compilation);
        Assert.Empty(exceptions);
        Assert.Empty(diagnostics.Where(d => d.Id.StartsWith("EPG", StringComparison.Ordinal) || d.Id == "AD0001").Select(d => d.ToString()));

        // Not vacuous: one level-triggered registration added to the same code is reported, alone.
        string bad = RealisticEpollCode.Replace("=> _set.Add(client, ClientMask, (ulong)client);", "=> _set.Add(client, EPOLLIN, (ulong)client);", StringComparison.Ordinal);
        Assert.NotEqual(RealisticEpollCode, bad);
        var (probe, _) = await Compilations.AnalyzeAsync(Compilations.Create([bad]));
        Assert.Equal([DiagnosticIds.LevelTriggeredRegistration], probe.Where(d => d.Id.StartsWith("EPG", StringComparison.Ordinal)).Select(d => d.Id));
    }

    [Fact]
    public async Task RuntimeEpollTests_WithDeliberateMisuse_CrashNothingAndGetOnlyUsageRules()
    {
        // These tests make level-triggered and invalid calls on purpose, to test Linux's semantics and
        // errors; what the rules say about them is expected, a crash is not.
        string root = Path.Combine(TestPaths.RepositoryRoot, "tests", "EpollGen.Runtime.Tests");
        string[] files = Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .ToArray();

        var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(Compilations.Create(files.Select(File.ReadAllText)));

        Assert.Empty(exceptions);
        Diagnostic[] ours = diagnostics.Where(d => d.Id.StartsWith("EPG", StringComparison.Ordinal) || d.Id == "AD0001").ToArray();
        Assert.All(ours, d => Assert.InRange(int.Parse(d.Id.AsSpan(3)), 100, 199));
        Assert.Contains(ours, d => d.Id == DiagnosticIds.LevelTriggeredRegistration);
    }

    [Fact]
    public async Task CodeWithoutEpollGen_IsNotEvenLookedAt()
    {
        // No spec attribute in the compilation: the spec analyzer registers nothing at all.
        const string source = """
            using System.Runtime.InteropServices;
            [StructLayout(LayoutKind.Sequential)] public struct Point { public int X; public long Y; }
            public static partial class Native { [DllImport("libc")] public static extern int getpid(); }
            """;
        var compilation = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create("NoEpollGen",
            [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText(source)],
            Compilations.Framework,
            new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));

        var (diagnostics, exceptions) = await Compilations.AnalyzeAsync(compilation);

        Assert.Empty(exceptions);
        Assert.Empty(diagnostics);
    }
}
