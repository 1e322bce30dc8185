using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// Kestrel's plaintext test on its own socket transport against EpollGen's: the plaintext app
/// (benchmarks/KestrelPlaintext) started as a child process per transport and round, driven by wrk
/// at each connection count, the transports alternating round by round.
/// </summary>
internal static partial class KestrelComparison
{
    public const string SocketTransport = "Kestrel, Socket transport";
    public const string EpollGenTransport = "Kestrel, EpollGen transport";

    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);

    private static readonly (string Name, string Argument)[] Transports =
        [(SocketTransport, "sockets"), (EpollGenTransport, "epollgen")];

    // The CPU times: the app's and wrk's user and system time over the timed run, per request.
    private sealed record Measured(double RequestsPerSecond, long Requests, double P99Milliseconds, long Errors, double CpuMicrosecondsPerRequest, double WrkCpuMicrosecondsPerRequest);

    public static void Run(SuiteOptions o, SuiteReport report, TextWriter log)
    {
        string? problem = Problem(out string app);
        report.Heading("Kestrel plaintext: Socket transport against EpollGen's");
        if (problem is not null)
        {
            log.WriteLine($"kestrel: skipped ({problem})");
            report.Paragraph($"Skipped: {problem}.");
            return;
        }
        var results = new Dictionary<(int Connections, string Name), List<Measured>>();
        for (int round = 0; round < o.KestrelRounds; round++)
        {
            foreach ((string name, string argument) in ChainComparison.Rotate(Transports, round))
            {
                using Server server = Server.Start(app, argument);
                // Tiered JIT and the pools settle under load before anything is timed. The framework's
                // Socket transport is precompiled (ReadyToRun), EpollGen's is not: from a cold start
                // both climb for 6-8 s here (2 s windows: 48k, 64k, 86k, 94k req/s for the Socket
                // transport), so a shorter warm-up times part of the JIT's tiering instead.
                Wrk(server.Url, o.KestrelThreads, o.KestrelConnections.Max(), o.KestrelWarmupSeconds);
                foreach (int connections in o.KestrelConnections)
                {
                    double cpuBefore = server.CpuSeconds(), wrkBefore = ReapedChildrenCpuSeconds();
                    Measured m = Wrk(server.Url, o.KestrelThreads, connections, o.KestrelSeconds);
                    double requests = m.Requests;
                    m = m with
                    {
                        CpuMicrosecondsPerRequest = (server.CpuSeconds() - cpuBefore) * 1e6 / requests,
                        // wrk is the only child reaped meanwhile: the app lives until the round ends.
                        WrkCpuMicrosecondsPerRequest = (ReapedChildrenCpuSeconds() - wrkBefore) * 1e6 / requests,
                    };
                    if (!results.TryGetValue((connections, name), out List<Measured>? list))
                        results[(connections, name)] = list = [];
                    list.Add(m);
                }
            }
            log.WriteLine($"kestrel: round {round + 1}/{o.KestrelRounds} done");
        }

        report.Paragraph(
            "TechEmpower's plaintext test without pipelining: `GET /plaintext` answered `Hello, World!` (text/plain) by a bare middleware " +
            "in `benchmarks/KestrelPlaintext`, a Release build with warning-level logging and server GC, on Kestrel's default Socket transport " +
            $"or on EpollGen's (`UseEpollGen()`, src/AspNetCore). Each round starts the app once per transport as a child process, the transports' order " +
            $"alternating by round, warms it with {o.KestrelWarmupSeconds:0.#} s of wrk at {o.KestrelConnections.Max()} connections, then runs " +
            $"`wrk -t{o.KestrelThreads} -c<N> -d{o.KestrelSeconds:0.#}s --latency` per connection count; {o.KestrelRounds} rounds. Cells give the median " +
            "and min–max of the rounds; the ratios divide EpollGen's median by the Socket transport's (above 1 is better for requests/s, below 1 for p99). " +
            "The paired column divides each round's EpollGen result by the Socket result of the same round (under a minute apart), which cancels " +
            "the machine's slow drift in speed, and gives the median and min–max of those ratios. CPU µs per request is the app's user and system time (/proc/PID/stat) " +
            "over the timed run, divided by the requests wrk completed in it; wrk's is its own, from getrusage(RUSAGE_CHILDREN) around its run. " +
            "wrk, the app and the machine's other work share its CPUs, so this measures the pair.");
        var rows = new List<string[]>();
        foreach (int connections in o.KestrelConnections)
        {
            Summary baseRps = Summary.Of(results[(connections, SocketTransport)].Select(m => m.RequestsPerSecond).ToList());
            Summary baseP99 = Summary.Of(results[(connections, SocketTransport)].Select(m => m.P99Milliseconds).ToList());
            List<Measured> baseline = results[(connections, SocketTransport)];
            foreach ((string name, _) in Transports)
            {
                List<Measured> m = results[(connections, name)];
                Summary rps = Summary.Of(m.Select(x => x.RequestsPerSecond).ToList());
                Summary p99 = Summary.Of(m.Select(x => x.P99Milliseconds).ToList());
                Summary cpu = Summary.Of(m.Select(x => x.CpuMicrosecondsPerRequest).ToList());
                Summary wrkCpu = Summary.Of(m.Select(x => x.WrkCpuMicrosecondsPerRequest).ToList());
                Summary paired = Summary.Of(m.Zip(baseline, (x, b) => x.RequestsPerSecond / b.RequestsPerSecond).ToList());
                rows.Add(
                [
                    connections.ToString(CultureInfo.InvariantCulture),
                    name,
                    ChainComparison.Cell(rps, "N0"),
                    ChainComparison.Cell(p99, "0.00"),
                    ChainComparison.Cell(cpu, "0.0"),
                    ChainComparison.Cell(wrkCpu, "0.0"),
                    m.Sum(x => x.Errors).ToString(CultureInfo.InvariantCulture),
                    Ratio(rps.Median, baseRps.Median),
                    name == SocketTransport ? "—" : ChainComparison.Cell(paired, "0.00"),
                    Ratio(p99.Median, baseP99.Median),
                ]);
            }
        }
        report.Table(["connections", "transport", "requests/s, median (min–max)", "p99 ms, median (min–max)", "app CPU µs per request, median (min–max)",
            "wrk CPU µs per request, median (min–max)", "errors", "requests/s ÷ Socket", "requests/s ÷ Socket, paired by round", "p99 ÷ Socket"], rows, leftAligned: 2);
        report.Paragraph(CpuBudget(o, results));
    }

    // The floor any transport stands on here: wrk and the app share the CPUs, so requests/s follow
    // the pair's CPU per request, and wrk's share does not shrink with a faster transport.
    private static string CpuBudget(SuiteOptions o, Dictionary<(int Connections, string Name), List<Measured>> results)
    {
        var lines = new List<string>();
        foreach (int connections in o.KestrelConnections)
        {
            List<Measured> socket = results[(connections, SocketTransport)], epollGen = results[(connections, EpollGenTransport)];
            double app = Statistics.Median(socket.Select(m => m.CpuMicrosecondsPerRequest).ToList());
            double wrk = Statistics.Median(socket.Concat(epollGen).Select(m => m.WrkCpuMicrosecondsPerRequest).ToList());
            double ours = Statistics.Median(epollGen.Select(m => m.CpuMicrosecondsPerRequest).ToList());
            double needed = (app + wrk) / 1.1 - wrk;
            string budget = needed > 0
                ? string.Create(CultureInfo.InvariantCulture, $"needs EpollGen's app at {needed:0.0} µs per request, {(1 - needed / app) * 100:0}% below the Socket transport's")
                : "is out of reach of any app: wrk alone takes more than 1/1.1 of the pair's CPU per request";
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"at {connections} connections the pair spends {app:0.0} µs (the app on the Socket transport) + {wrk:0.0} µs (wrk) per request, so 1.1 times " +
                $"its requests/s on the same CPUs {budget}; it used {ours:0.0}"));
        }
        return "CPU budget (medians): " + string.Join("; ", lines) + ".";
    }

    private static string Ratio(double value, double baseline) =>
        (value / baseline).ToString("0.00", CultureInfo.InvariantCulture) + "×";

    // Why the section cannot run here, or null; app is the plaintext app's dll.
    private static string? Problem(out string app)
    {
        app = typeof(KestrelComparison).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "KestrelPlaintextDll").Value!;
        if (!File.Exists(app))
            return $"the plaintext app is not built ({app})";
        if (FindOnPath("wrk") is null)
            return "wrk is not installed ('apt-get install -y wrk'; building the benchmarks as root installs it)";
        return null;
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);

    private static Measured Wrk(string url, int threads, int connections, double seconds)
    {
        var start = new ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { $"-t{threads}", $"-c{connections}", string.Create(CultureInfo.InvariantCulture, $"-d{seconds}s"), "--latency", url + "/plaintext" })
            start.ArgumentList.Add(arg);
        using Process wrk = Process.Start(start)!;
        Task<string> error = wrk.StandardError.ReadToEndAsync();
        string output = wrk.StandardOutput.ReadToEnd();
        if (!wrk.WaitForExit(TimeSpan.FromSeconds(seconds) + StartBound) || wrk.ExitCode != 0)
            throw new InvalidOperationException($"wrk failed against {url}: {output}{error.Result}");
        return Parse(output);
    }

    private static Measured Parse(string output)
    {
        Match rps = RequestsPerSecond().Match(output);
        Match count = RequestCount().Match(output);
        Match p99 = P99().Match(output);
        if (!rps.Success || !count.Success || !p99.Success)
            throw new InvalidOperationException($"cannot read wrk's report:\n{output}");
        double latency = double.Parse(p99.Groups[1].Value, CultureInfo.InvariantCulture) * p99.Groups[2].Value switch
        {
            "us" => 0.001,
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            _ => throw new InvalidOperationException($"unknown latency unit in wrk's '{p99.Value}'"),
        };
        long errors = Errors().Matches(output).Sum(m => m.Groups.Cast<Group>().Skip(1).Where(g => g.Success).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture)));
        return new Measured(double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(count.Groups[1].Value, CultureInfo.InvariantCulture),
            latency, errors, double.NaN, double.NaN);
    }

    private const int RusageChildren = -1; // RUSAGE_CHILDREN

    // struct rusage on LP64 Linux: ru_utime and ru_stime (timevals: seconds, microseconds), then 14 longs.
    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int getrusage(int who, long* usage);

    /// <summary>User and system time of every child this process has reaped so far.</summary>
    private static unsafe double ReapedChildrenCpuSeconds()
    {
        long* usage = stackalloc long[18];
        if (getrusage(RusageChildren, usage) != 0)
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        return usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6;
    }

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RequestsPerSecond();

    // "  123456 requests in 6.00s, 15.2MB read": the exact count, where requests/s divides by wrk's
    // own elapsed time, a little over -d.
    [GeneratedRegex(@"^\s*(\d+) requests in ", RegexOptions.Multiline)]
    private static partial Regex RequestCount();

    [GeneratedRegex(@"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline)]
    private static partial Regex P99();

    // "Socket errors: connect 0, read 0, write 0, timeout 0" and "Non-2xx or 3xx responses: 0", when wrk prints them.
    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)|Non-2xx or 3xx responses: (\d+)")]
    private static partial Regex Errors();

    /// <summary>The plaintext app as a child process, stopped (its process tree killed) on dispose.</summary>
    private sealed class Server : IDisposable
    {
        private readonly Process _process;

        private Server(Process process, string url)
        {
            _process = process;
            Url = url;
        }

        public string Url { get; }

        /// <summary>The app's user and system time so far (.NET reads /proc/PID/stat afresh on each call).</summary>
        public double CpuSeconds() => _process.TotalProcessorTime.TotalSeconds;

        public static Server Start(string app, string transport)
        {
            // The app's own host beside its dll when there is one, so no dotnet on PATH is needed.
            string host = Path.ChangeExtension(app, null);
            var start = new ProcessStartInfo(File.Exists(host) ? host : "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            if (!File.Exists(host))
                start.ArgumentList.Add(app);
            start.ArgumentList.Add(transport);
            start.ArgumentList.Add("0");
            Process process = Process.Start(start)!;
            try
            {
                // Read as events from the start (a process stream cannot be read both ways), so a
                // chatty app never blocks on a full pipe either.
                var listening = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                var errors = new System.Text.StringBuilder();
                process.OutputDataReceived += (_, e) =>
                {
                    if (e.Data?.StartsWith("listening on ", StringComparison.Ordinal) == true)
                        listening.TrySetResult(e.Data["listening on ".Length..].Split(' ')[0]);
                };
                process.ErrorDataReceived += (_, e) =>
                {
                    lock (errors)
                        errors.AppendLine(e.Data);
                };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                if (!listening.Task.Wait(StartBound))
                {
                    lock (errors)
                        throw new InvalidOperationException($"the plaintext app on {transport} did not start within {StartBound.TotalSeconds:0} s: {errors}");
                }
                return new Server(process, listening.Task.Result);
            }
            catch
            {
                process.Kill(entireProcessTree: true);
                process.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                // Reaped here, not during a later timed run, where getrusage would count its CPU as wrk's.
                if (!_process.WaitForExit(StartBound))
                    throw new InvalidOperationException($"the plaintext app (pid {_process.Id}) did not exit within {StartBound.TotalSeconds:0} s of SIGKILL");
            }
            _process.Dispose();
        }
    }
}
