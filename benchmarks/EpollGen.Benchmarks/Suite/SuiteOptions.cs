using System;
using System.Globalization;
using System.IO;
using System.Linq;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// How much the suite measures. The full settings are the ones docs/benchmarks.md quotes for the
/// separate modes; <c>--quick</c> cuts rounds, iterations and seconds to a smoke test whose numbers
/// are for checking the machinery, not for quoting.
/// </summary>
internal sealed record SuiteOptions
{
    public static readonly string[] Sections = ["chain", "pingpong", "waitcost", "churn", "concurrent", "echo", "kestrel", "asyncfd"];

    public bool Quick { get; init; }

    public required string OutputDirectory { get; init; }

    public string[] Only { get; init; } = Sections;

    public int[] ChainPairs { get; init; } = [100, 1000, 9900];

    public int ChainActive { get; init; } = 100;

    public int ChainWrites { get; init; } = 1000;

    public string[] ChainModes { get; init; } = ["lt", "et"];

    public int ChainRounds { get; init; } = 5;

    public int ChainIterations { get; init; } = 25;

    /// <summary>Untimed running of each C# path before its rounds, so tiered JIT has optimized it.</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(1);

    public int PingPongRoundTrips { get; init; } = 20_000;

    public int PingPongRounds { get; init; } = 7;

    /// <summary>Registered fds for the wait cost; 100 of them are always ready. 19,100 fits the VM's 20,000 fds.</summary>
    public int[] WaitRegistered { get; init; } = [100, 1000, 10_000, 19_100];

    public int WaitRounds { get; init; } = 5;

    public int Waits { get; init; } = 2000;

    /// <summary>Idle registrations beside the close churn's pipe.</summary>
    public int[] ChurnIdle { get; init; } = [0, 1000, 10_000];

    public int ChurnCycles { get; init; } = 20_000;

    public int ChurnRounds { get; init; } = 5;

    /// <summary>Threads sharing one set in the concurrent-waiters section (two cores here: twice as many threads as cores).</summary>
    public int ConcurrentThreads { get; init; } = 4;

    public int ConcurrentFds { get; init; } = 64;

    public int ConcurrentTokens { get; init; } = 16;

    public int ConcurrentMoves { get; init; } = 200_000;

    public int ConcurrentRounds { get; init; } = 5;

    public int EchoRounds { get; init; } = 5;

    public double EchoSeconds { get; init; } = 3;

    public double EchoWarmupSeconds { get; init; } = 1;

    public int EchoConnections { get; init; } = 256;

    public int EchoSize { get; init; } = 64;

    public int KestrelRounds { get; init; } = 8;

    public double KestrelSeconds { get; init; } = 6;

    public double KestrelWarmupSeconds { get; init; } = 10;

    public int[] KestrelConnections { get; init; } = [64, 256];

    public int KestrelThreads { get; init; } = 2;

    public int AsyncFdRoundTrips { get; init; } = 20_000;

    public int AsyncFdRounds { get; init; } = 7;

    public int[] AsyncFdSizes { get; init; } = [1, 4096];

    public bool Runs(string section) => Only.Contains(section);

    /// <summary>The settings of a run: full ones, or <c>--quick</c>'s smoke test.</summary>
    public static SuiteOptions Create(bool quick, string outputDirectory, string[] only)
    {
        var options = new SuiteOptions { OutputDirectory = outputDirectory, Only = only };
        return quick
            ? options with
            {
                Quick = true,
                ChainModes = ["lt"],
                ChainRounds = 3,
                ChainIterations = 10,
                WarmUp = TimeSpan.FromSeconds(0.5),
                PingPongRoundTrips = 5000,
                PingPongRounds = 3,
                WaitRounds = 3,
                Waits = 1000,
                ChurnCycles = 5000,
                ChurnRounds = 3,
                ConcurrentMoves = 50_000,
                ConcurrentRounds = 3,
                EchoRounds = 2,
                EchoSeconds = 1.5,
                EchoWarmupSeconds = 0.5,
                KestrelRounds = 2,
                KestrelSeconds = 3,
                KestrelWarmupSeconds = 1,
                AsyncFdRoundTrips = 5000,
                AsyncFdRounds = 3,
            }
            : options;
    }

    /// <summary>The docs/ folder of the repository the command runs in (found from the working directory up); null outside one.</summary>
    public static string? DefaultOutput()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "EpollGen.sln")))
                    return Path.Combine(dir.FullName, "docs");
            }
        }
        return null;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"chain: pairs {string.Join("/", ChainPairs)}, {ChainActive} active, {ChainWrites} writes, {string.Join("+", ChainModes).ToUpperInvariant()}, {ChainRounds} rounds × {ChainIterations} iterations; " +
        $"ping-pong: {PingPongRounds} rounds × {PingPongRoundTrips:N0} round trips; " +
        $"wait cost: {WaitRounds} rounds × {Waits:N0} waits; " +
        $"close churn: {ChurnRounds} rounds × {ChurnCycles:N0} cycles, {string.Join("/", ChurnIdle)} idle; " +
        $"concurrent waiters: {ConcurrentRounds} rounds × {ConcurrentMoves:N0} moves, {ConcurrentThreads} threads, {ConcurrentFds} fds, {ConcurrentTokens} tokens; " +
        $"echo: {EchoRounds} rounds × {EchoSeconds:0.#} s after {EchoWarmupSeconds:0.#} s warm-up, {EchoConnections} connections, {EchoSize}-byte messages; " +
        $"kestrel: {KestrelRounds} rounds × {KestrelSeconds:0.#} s of wrk -t{KestrelThreads} after {KestrelWarmupSeconds:0.#} s warm-up, {string.Join("/", KestrelConnections)} connections; " +
        $"asyncfd: {AsyncFdRounds} rounds × {AsyncFdRoundTrips:N0} round trips, {string.Join("/", AsyncFdSizes)}-byte messages");
}
