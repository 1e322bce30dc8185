using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Xunit;

namespace EpollGen.Preload.Tests;

/// <summary>
/// One Debian nginx in its default master/worker mode, with <see cref="WorkerCount"/> workers, on a
/// free loopback port, on the kernel's epoll or, with <c>LD_PRELOAD</c>, on EpollGen's; its prefix,
/// configuration, pid file, logs and temporary paths live in a temporary folder of its own, and ab
/// (the load tool, never preloaded) is pointed at it. Every wait is bounded, so a preload that loses
/// an event fails the test with nginx's error log instead of hanging it.
/// </summary>
internal sealed class NginxServer : IDisposable
{
    public const int WorkerCount = 2;

    /// <summary>The length of the one static page, <c>/page.html</c>.</summary>
    public const int PageLength = 4096;

    public static readonly TimeSpan ReadyBound = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan LoadBound = TimeSpan.FromSeconds(120);

    private const int StartAttempts = 3;
    private const string Binary = "/usr/sbin/nginx";

    private readonly DirectoryInfo _prefix;
    private readonly string _configuration;
    private readonly string _errorLog;
    private readonly string _accessLog;
    private readonly Process _master;
    private readonly StringBuilder _output = new();
    private readonly List<int> _workersSeen = [];

    private NginxServer(int port, string? preload, IReadOnlyDictionary<string, string> environment)
    {
        Port = port;
        Side = preload is null ? "kernel" : "preload";
        _prefix = Directory.CreateTempSubdirectory("epollgen-nginx-");
        string root = _prefix.FullName;
        _configuration = Path.Combine(root, "nginx.conf");
        _errorLog = Path.Combine(root, "error.log");
        _accessLog = Path.Combine(root, "access.log");
        Directory.CreateDirectory(Path.Combine(root, "html"));
        // nginx creates each temporary path's last component, not its parents.
        Directory.CreateDirectory(Path.Combine(root, "temp"));
        File.WriteAllText(Path.Combine(root, "html", "page.html"), new string('x', PageLength - 1) + "\n");
        File.WriteAllText(_configuration, Configuration(root, port, environment.Keys));

        // -e: nginx opens its error log before it reads the configuration, at the package's path
        // (stderr for Debian's build) unless told; the -g keeps the master in the foreground, the test's child.
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        foreach (string arg in new[] { "-p", root + "/", "-c", _configuration, "-e", _errorLog, "-g", "daemon off;" })
            start.ArgumentList.Add(arg);
        start.Environment.Remove("LD_PRELOAD");
        if (preload is not null)
            start.Environment["LD_PRELOAD"] = preload;
        foreach (KeyValuePair<string, string> variable in environment)
            start.Environment[variable.Key] = variable.Value;
        _master = new Process { StartInfo = start };
        _master.OutputDataReceived += (_, e) => AppendOutput(e.Data);
        _master.ErrorDataReceived += (_, e) => AppendOutput(e.Data);
        _master.Start();
        _master.BeginOutputReadLine();
        _master.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>"kernel" or "preload", for messages.</summary>
    public string Side { get; }

    public int MasterPid => _master.Id;

    /// <summary>nginx's error log and whatever the master printed, for failure messages.</summary>
    public string Log
    {
        get
        {
            string errors = File.Exists(_errorLog) ? File.ReadAllText(_errorLog) : "(no error log)\n";
            lock (_output)
                return errors + _output;
        }
    }

    /// <summary>
    /// Starts nginx and waits, at most <see cref="ReadyBound"/>, until its port accepts a connection
    /// and the master has forked all its workers.
    /// </summary>
    /// <param name="preload">The library for <c>LD_PRELOAD</c>, or null for the kernel's epoll.</param>
    /// <param name="environment">More variables for the master, which the configuration's <c>env</c> directives pass on to the workers.</param>
    public static NginxServer Start(string? preload, IReadOnlyDictionary<string, string>? environment = null)
    {
        for (int attempt = 1; ; attempt++)
        {
            var server = new NginxServer(FreePort(), preload, environment ?? new Dictionary<string, string>());
            if (server.WaitReady())
            {
                if (preload is not null)
                    server.AssertMapped(preload);
                return server;
            }
            string log = server.Log;
            bool exited = server._master.HasExited;
            server.Dispose();
            // The port was free when probed but another process may take it before nginx binds it.
            if (!log.Contains("Address already in use", StringComparison.Ordinal) || attempt == StartAttempts)
                Assert.Fail($"nginx ({server.Side}) was not serving with {WorkerCount} workers within {ReadyBound.TotalSeconds} s ({(exited ? "it exited" : "it was still running")}); its log:\n{log}");
        }
    }

    /// <summary>The master's children, which are its workers: this configuration starts no cache processes.</summary>
    public IReadOnlyList<int> Workers() => ChildrenOf(_master.Id);

    /// <summary>
    /// Runs ab against <c>/page.html</c> and fails the test unless every request completed with a
    /// 200 and the full page: ab exits 0, counts <paramref name="requests"/> complete, none failed (a
    /// failure includes a wrong length), no write error and no non-2xx response.
    /// </summary>
    /// <returns>ab's requests per second.</returns>
    public double Load(int requests, int connections, bool keepAlive)
    {
        var args = new List<string> { "-n", requests.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture) };
        // Without -k, ab speaks HTTP/1.0 without keep-alive: a connection per request, closed by nginx.
        if (keepAlive)
            args.Add("-k");
        args.Add($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/page.html");
        string what = $"ab {string.Join(' ', args)} against nginx ({Side})";

        (int exitCode, string stdout, string stderr) = Run("ab", args, LoadBound);
        if (exitCode != 0)
            Assert.Fail($"{what} " + (exitCode == -1 ? $"did not finish within {LoadBound.TotalSeconds} s" : $"exited {exitCode}") + $"; stderr:\n{Tail(stderr)}\nstdout:\n{stdout}\nnginx log:\n{Log}");

        long Count(string label, bool required)
        {
            Match m = Regex.Match(stdout, $@"^{label}:\s+(\d+)", RegexOptions.Multiline);
            Assert.True(m.Success || !required, $"{what}: no '{label}' line in its report:\n{stdout}");
            return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        }
        long complete = Count("Complete requests", required: true);
        long failed = Count("Failed requests", required: true);
        // ab prints these two lines only when the count is not zero.
        long writeErrors = Count("Write errors", required: false);
        long non2xx = Count("Non-2xx responses", required: false);
        long length = Count("Document Length", required: true);
        Assert.True(complete == requests && failed == 0 && writeErrors == 0 && non2xx == 0 && length == PageLength,
            $"{what}: {complete} complete of {requests}, {failed} failed, {writeErrors} write errors, {non2xx} non-2xx, page {length} bytes of {PageLength}; its report:\n{stdout}\nnginx log:\n{Log}");

        Match rate = Regex.Match(stdout, @"^Requests per second:\s+([\d.]+)", RegexOptions.Multiline);
        Assert.True(rate.Success, $"{what}: no rate in its report:\n{stdout}");
        return double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Waits, at most <see cref="ExitBound"/>, until nginx has logged <paramref name="count"/>
    /// requests (a worker logs a request after its response, so after ab has read it), and returns the
    /// status of each: the access log's format is the status alone.
    /// </summary>
    public IReadOnlyList<string> LoggedStatuses(int count)
    {
        var clock = Stopwatch.StartNew();
        string[] lines;
        do
        {
            lines = File.Exists(_accessLog) ? File.ReadAllLines(_accessLog) : [];
            if (lines.Length >= count)
                break;
            Thread.Sleep(20);
        }
        while (clock.Elapsed < ExitBound);
        return lines;
    }

    /// <summary><c>nginx -s quit</c> (a graceful stop), then asserts the master exited 0 within <see cref="ExitBound"/>.</summary>
    public void Shutdown()
    {
        (int exitCode, _, string stderr) = Run(Binary, ["-p", _prefix.FullName + "/", "-c", _configuration, "-e", _errorLog, "-s", "quit"], ExitBound);
        Assert.True(exitCode == 0, $"nginx -s quit ({Side}) exited {exitCode}: {stderr}\nnginx log:\n{Log}");
        Assert.True(_master.WaitForExit(ExitBound), $"nginx ({Side}) still runs {ExitBound.TotalSeconds} s after nginx -s quit; its log:\n{Log}");
        _master.WaitForExit(); // lets the asynchronous readers reach the end of the output
        Assert.True(_master.ExitCode == 0, $"nginx ({Side}) exited {_master.ExitCode} after nginx -s quit; its log:\n{Log}");
    }

    public void Dispose()
    {
        if (!_master.HasExited)
        {
            _master.Kill(entireProcessTree: true);
            _master.WaitForExit(ExitBound);
        }
        // A worker whose master died first was adopted by init, out of the master's tree.
        foreach (int worker in _workersSeen)
        {
            try
            {
                using Process orphan = Process.GetProcessById(worker);
                if (File.ReadAllText($"/proc/{worker}/cmdline").StartsWith("nginx: worker", StringComparison.Ordinal))
                    orphan.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
            {
                // Gone already, which is the usual case.
            }
        }
        _master.Dispose();
        try
        {
            _prefix.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a finished test for.
        }
    }

    private static string Configuration(string root, int port, IEnumerable<string> passedOn)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"worker_processes {WorkerCount};\n");
        // As root, nginx would switch its workers to nobody, who cannot read this 0700 prefix; as
        // anyone else it warns about the directive and runs the workers as the caller anyway.
        if (Environment.IsPrivilegedProcess)
            text.Append("user root;\n");
        text.Append(CultureInfo.InvariantCulture, $"pid {root}/nginx.pid;\n");
        text.Append(CultureInfo.InvariantCulture, $"error_log {root}/error.log notice;\n");
        // nginx gives its workers an empty environment but for TZ and what 'env' names; EpollGen's
        // runtime may start in a worker and must see its variables there.
        foreach (string name in passedOn)
            text.Append(CultureInfo.InvariantCulture, $"env {name};\n");
        text.Append("events { worker_connections 1024; }\n");
        text.Append("http {\n");
        text.Append("  log_format status_only '$status';\n");
        text.Append(CultureInfo.InvariantCulture, $"  access_log {root}/access.log status_only;\n");
        // Debian's build puts these under /var/lib/nginx, which nginx creates at start-up and only root may.
        foreach (string temp in new[] { "client_body", "proxy", "fastcgi", "uwsgi", "scgi" })
            text.Append(CultureInfo.InvariantCulture, $"  {temp}_temp_path {root}/temp/{temp};\n");
        text.Append(CultureInfo.InvariantCulture, $"  server {{ listen 127.0.0.1:{port}; root {root}/html; }}\n");
        text.Append("}\n");
        return text.ToString();
    }

    private bool WaitReady()
    {
        var clock = Stopwatch.StartNew();
        bool listening = false;
        while (clock.Elapsed < ReadyBound)
        {
            if (_master.HasExited)
                return false;
            listening = listening || Accepts(Port);
            if (listening)
            {
                IReadOnlyList<int> workers = Workers();
                _workersSeen.AddRange(workers.Except(_workersSeen));
                if (workers.Count == WorkerCount)
                    return true;
            }
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>
    /// The dynamic loader skips an LD_PRELOAD entry it cannot load with only a warning, and nginx
    /// then runs on the kernel's epoll; the library must be in the master's and every worker's map.
    /// </summary>
    private void AssertMapped(string preload)
    {
        foreach (int pid in Workers().Prepend(_master.Id))
        {
            string maps = File.ReadAllText($"/proc/{pid}/maps");
            if (!maps.Contains("/" + Path.GetFileName(preload) + "\n", StringComparison.Ordinal))
            {
                string log = Log;
                Dispose();
                Assert.Fail($"nginx process {pid} (master {_master.Id}) started with LD_PRELOAD={preload} but has not loaded it; its log:\n{log}");
            }
        }
    }

    private static bool Accepts(int port)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A loopback connect is answered at once, by the listener's backlog or a reset.
            client.Connect(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Every process whose parent is <paramref name="parent"/>, from /proc/*/stat (this kernel has no /proc/*/task/*/children).</summary>
    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (string directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue; // exited while we looked
            }
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                children.Add(pid);
        }
        children.Sort();
        return children;
    }

    private void AppendOutput(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Append(line).Append('\n');
    }

    /// <summary>Runs a tool without the preload to completion, or kills it after <paramref name="bound"/> (exit code -1).</summary>
    private static (int ExitCode, string Stdout, string Stderr) Run(string tool, IReadOnlyList<string> args, TimeSpan bound)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        start.Environment.Remove("LD_PRELOAD");
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(bound))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, stdout.Result, stderr.Result);
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : "…" + text[^2000..];
}
