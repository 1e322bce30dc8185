using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace EpollGen.Preload.Tests;

/// <summary>
/// Debian's redis-server, an unmodified program built around epoll, run once on the kernel's epoll
/// and once with <c>LD_PRELOAD=libepollgen.so</c>: what clients see must be the same, and every
/// benchmark request must be answered. redis-server, redis-cli and redis-benchmark come from the
/// redis-server and redis-tools packages (tests/Shared/EnsureRedis.targets installs them).
/// </summary>
[Collection(PreloadCollection.Name)]
public sealed class RedisTests(PreloadLibrary preload, ITestOutputHelper output)
{
    /// <summary>
    /// Commands whose replies do not depend on time or on the per-process hash seed (so sorted
    /// sets, not sets), covering strings, counters, an error reply, lists, hashes, a MULTI block,
    /// and a 4 MiB value for the large-reply read below.
    /// </summary>
    private static readonly string[] Script =
    [
        "FLUSHALL",
        "SET greeting hello",
        "GET greeting",
        "APPEND greeting \", world\"",
        "GETRANGE greeting 0 4",
        "GET missing",
        "INCR counter",
        "INCRBY counter 41",
        "DECR counter",
        "INCR greeting",
        "LPUSH list c b a",
        "RPUSH list d",
        "LRANGE list 0 -1",
        "LPOP list",
        "LLEN list",
        "HSET user name ada lang c",
        "HGET user name",
        "HGETALL user",
        "ZADD board 3 carol 1 alice 2 bob",
        "ZRANGE board 0 -1 WITHSCORES",
        "MULTI",
        "INCR counter",
        "LPUSH list e",
        "GET greeting",
        "EXEC",
        "EXISTS greeting missing counter",
        "DEL greeting list",
        "TYPE user",
        "SETRANGE big 4194303 z",
        "STRLEN big",
        "DBSIZE",
    ];

    private const int BigValueLength = 4 * 1024 * 1024;
    private const int RequestsPerTest = 20000;
    private static readonly string[] BenchmarkTests = ["SET", "GET", "LPUSH", "LPOP"];

    [Fact]
    public void Transcript_UnderThePreload_IsTheKernelsExactly()
    {
        string kernel = Transcript(preload: null);
        string preloaded = Transcript(preload.SharedObject);
        Assert.Equal(kernel, preloaded);
    }

    [Fact]
    public void Benchmark_UnderThePreload_AnswersEveryRequest()
    {
        Dictionary<string, double> kernel = Benchmark(preload: null);
        Dictionary<string, double> preloaded = Benchmark(preload.SharedObject);
        output.WriteLine($"redis-benchmark -n {RequestsPerTest} -c 50, requests/s (client without preload):");
        foreach (string test in BenchmarkTests)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {test,-6} kernel {kernel[test],10:F0}  preload {preloaded[test],10:F0}  ratio preload/kernel {preloaded[test] / kernel[test]:F3}"));
    }

    private string Transcript(string? preload)
    {
        using RedisServer server = RedisServer.Start(preload);
        string transcript = server.Cli(["--no-raw"], string.Join('\n', Script) + "\n");
        // Far more than a loopback socket's send buffer: redis has to wait for EPOLLOUT to send it all.
        string big = server.Cli(["--raw", "GET", "big"]);
        Assert.True(big.Length == BigValueLength + 1 && big.EndsWith("z\n", StringComparison.Ordinal),
            $"GET big on redis-server ({server.Side}): {big.Length} chars, expected {BigValueLength} then a newline");
        server.Shutdown();
        return transcript;
    }

    /// <summary>Runs redis-benchmark on a fresh server; returns requests/s per test after checking every request ran.</summary>
    private Dictionary<string, double> Benchmark(string? preload)
    {
        using RedisServer server = RedisServer.Start(preload);
        server.Cli(["CONFIG", "RESETSTAT"]);
        string csv = server.Benchmark(["-q", "-n", RequestsPerTest.ToString(CultureInfo.InvariantCulture), "-c", "50", "-t", "set,get,lpush,lpop", "--csv"]);

        var rps = new Dictionary<string, double>();
        foreach (string line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1))
        {
            string[] cells = line.Split(',').Select(c => c.Trim('"')).ToArray();
            rps[cells[0]] = double.Parse(cells[1], CultureInfo.InvariantCulture);
        }
        foreach (string test in BenchmarkTests)
            Assert.True(rps.TryGetValue(test, out double r) && r > 0, $"redis-benchmark on redis-server ({server.Side}) reported no {test} rate:\n{csv}");

        // The server's own count: every request was executed once and none failed. LPUSH and LPOP
        // ran as often on the same list, so it must be empty again.
        string stats = server.Cli(["INFO", "commandstats"]);
        foreach (string test in BenchmarkTests)
        {
            Match m = Regex.Match(stats, $@"^cmdstat_{test.ToLowerInvariant()}:calls=(\d+),.*failed_calls=(\d+)", RegexOptions.Multiline);
            Assert.True(m.Success, $"redis-server ({server.Side}) has no {test} count:\n{stats}");
            Assert.True(m.Groups[1].Value == RequestsPerTest.ToString(CultureInfo.InvariantCulture) && m.Groups[2].Value == "0",
                $"redis-server ({server.Side}) ran {test} {m.Groups[1].Value} times ({m.Groups[2].Value} failed), expected {RequestsPerTest}");
        }
        Assert.Equal("0", server.Cli(["--raw", "LLEN", "mylist"]).Trim());
        server.Shutdown();
        return rps;
    }
}
