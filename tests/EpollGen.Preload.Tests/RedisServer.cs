using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace EpollGen.Preload.Tests;

/// <summary>
/// One Debian redis-server on a free loopback port, on the kernel's epoll or, with
/// <c>LD_PRELOAD</c>, on EpollGen's, and the redis-cli and redis-benchmark pointed at it. Every
/// wait is bounded, so a preload that loses an event fails the test with the server's log instead
/// of hanging it. The clients always run without the preload: the server is what is compared, and
/// a plain client loads both servers the same way.
/// </summary>
internal sealed class RedisServer : IDisposable
{
    public static readonly TimeSpan ReadyBound = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan CommandBound = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan BenchmarkBound = TimeSpan.FromSeconds(120);

    private const int StartAttempts = 3;

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private RedisServer(int port, string? preload)
    {
        Port = port;
        Side = preload is null ? "kernel" : "preload";
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // Nothing is saved (--save "", no AOF, SHUTDOWN NOSAVE), but redis may still look at its
            // working directory; keep it out of the test's output folder.
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (string arg in new[] { "--save", "", "--appendonly", "no", "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--daemonize", "no" })
            start.ArgumentList.Add(arg);
        WithPreload(start, preload);
        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => AppendLog(e.Data);
        _process.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>"kernel" or "preload", for messages.</summary>
    public string Side { get; }

    /// <summary>What redis-server printed so far (it logs to stdout when not daemonized).</summary>
    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    /// <summary>Starts a server and waits, at most <see cref="ReadyBound"/>, until it answers PING.</summary>
    /// <param name="preload">The library for <c>LD_PRELOAD</c>, or null for the kernel's epoll.</param>
    public static RedisServer Start(string? preload)
    {
        for (int attempt = 1; ; attempt++)
        {
            var server = new RedisServer(FreePort(), preload);
            if (server.WaitReady())
            {
                if (preload is not null)
                    server.AssertMapped(preload);
                return server;
            }
            string log = server.Log;
            bool exited = server._process.HasExited;
            server.Dispose();
            // The port was free when probed but another process may take it before redis binds it.
            if (!log.Contains("Address already in use", StringComparison.Ordinal) || attempt == StartAttempts)
                Assert.Fail($"redis-server ({server.Side}) did not answer PING within {ReadyBound.TotalSeconds} s ({(exited ? "it exited" : "it was still running")}); its log:\n{log}");
        }
    }

    /// <summary>Runs redis-cli against this server; fails the test unless it exits 0 within <see cref="CommandBound"/>.</summary>
    /// <param name="args">redis-cli's arguments after <c>-h</c> and <c>-p</c>.</param>
    /// <param name="input">Commands, one a line, for redis-cli to read from its stdin; null for none.</param>
    /// <returns>redis-cli's stdout.</returns>
    public string Cli(IEnumerable<string> args, string? input = null) =>
        Succeed("redis-cli", [.. ClientTarget(), .. args], input, CommandBound);

    /// <summary>Runs redis-benchmark against this server; fails the test unless it exits 0 within <see cref="BenchmarkBound"/>.</summary>
    /// <returns>redis-benchmark's stdout.</returns>
    public string Benchmark(IEnumerable<string> args) =>
        Succeed("redis-benchmark", [.. ClientTarget(), .. args], null, BenchmarkBound);

    /// <summary>SHUTDOWN NOSAVE, then asserts the server exited 0 within <see cref="ExitBound"/>.</summary>
    public void Shutdown()
    {
        // redis-cli sees the connection close instead of a reply; its exit code says nothing here.
        Run("redis-cli", [.. ClientTarget(), "SHUTDOWN", "NOSAVE"], null, CommandBound);
        Assert.True(_process.WaitForExit(ExitBound), $"redis-server ({Side}) still runs {ExitBound.TotalSeconds} s after SHUTDOWN NOSAVE; its log:\n{Log}");
        _process.WaitForExit(); // lets the asynchronous log readers reach the end of the output
        Assert.True(_process.ExitCode == 0, $"redis-server ({Side}) exited {_process.ExitCode} after SHUTDOWN NOSAVE; its log:\n{Log}");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(ExitBound);
        }
        _process.Dispose();
    }

    private bool WaitReady()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReadyBound)
        {
            if (_process.HasExited)
                return false;
            TimeSpan left = ReadyBound - clock.Elapsed;
            ToolOutput ping = Run("redis-cli", [.. ClientTarget(), "PING"], null, left < TimeSpan.FromSeconds(2) ? left : TimeSpan.FromSeconds(2));
            if (ping.ExitCode == 0 && ping.Stdout.Trim() == "PONG")
                return true;
            Thread.Sleep(50);
        }
        return false;
    }

    /// <summary>
    /// The dynamic loader skips an LD_PRELOAD entry it cannot load with only a warning, and the
    /// server then runs on the kernel's epoll; the library must be in the server's memory map.
    /// </summary>
    private void AssertMapped(string preload)
    {
        string maps = File.ReadAllText($"/proc/{_process.Id}/maps");
        if (!maps.Contains("/" + Path.GetFileName(preload) + "\n", StringComparison.Ordinal))
        {
            Dispose();
            Assert.Fail($"redis-server started with LD_PRELOAD={preload} but has not loaded it; its log:\n{Log}");
        }
    }

    private string Succeed(string tool, IReadOnlyList<string> args, string? input, TimeSpan bound)
    {
        ToolOutput result = Run(tool, args, input, bound);
        if (result.ExitCode != 0)
        {
            Assert.Fail($"{tool} {string.Join(' ', args)} against redis-server ({Side}) "
                + (result.TimedOut ? $"did not finish within {bound.TotalSeconds} s" : $"exited {result.ExitCode}")
                + $"; stderr:\n{result.Stderr}\nstdout (first 2000 chars):\n{Head(result.Stdout)}\nserver log:\n{Log}");
        }
        return result.Stdout;
    }

    private string[] ClientTarget() => ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture)];

    private void AppendLog(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.Append(line).Append('\n');
    }

    /// <summary>Runs a client to completion or kills it after <paramref name="bound"/> (exit code -1).</summary>
    private static ToolOutput Run(string tool, IReadOnlyList<string> args, string? input, TimeSpan bound)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        WithPreload(start, null);
        using Process process = Process.Start(start)!;
        // Both pipes are drained while the tool runs: a multi-megabyte reply would otherwise fill
        // the stdout pipe and block redis-cli before it exits.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
            process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(bound))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new ToolOutput(-1, stdout.Result, stderr.Result, TimedOut: true);
        }
        return new ToolOutput(process.ExitCode, stdout.Result, stderr.Result, TimedOut: false);
    }

    private static void WithPreload(ProcessStartInfo start, string? preload)
    {
        // The kernel side must not inherit a preload from whoever runs the tests.
        start.Environment.Remove("LD_PRELOAD");
        if (preload is not null)
            start.Environment["LD_PRELOAD"] = preload;
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static string Head(string text) => text.Length <= 2000 ? text : text[..2000] + "…";

    private readonly record struct ToolOutput(int ExitCode, string Stdout, string Stderr, bool TimedOut);
}
