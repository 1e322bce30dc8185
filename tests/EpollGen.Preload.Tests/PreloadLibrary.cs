using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using EpollGen.Preload.Tests.Infrastructure;
using EpollGen.Testing;
using Xunit;

namespace EpollGen.Preload.Tests;

/// <summary>
/// libepollgen.so, published once per test run with NativeAOT from src/Preload into a temporary
/// folder. A failed publish fails every test that needs the library, with the end of the build
/// output; it is never a skip, because a preload that does not build is the finding.
/// </summary>
public sealed class PreloadLibrary : IDisposable
{
    /// <summary>The file name the publish must produce.</summary>
    public const string FileName = "libepollgen.so";

    // A cold NativeAOT publish (restore of the ILCompiler pack, IL scan, native link) on a shared
    // two-core machine takes minutes; a hung one must still end.
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(6);

    private const int TailLines = 40;

    private readonly DirectoryInfo _directory;
    private readonly string? _path;
    private readonly string? _failure;
    private readonly Lazy<ProbeResult> _probe;

    public PreloadLibrary()
    {
        _directory = Directory.CreateTempSubdirectory("epollgen-preload-");
        (_path, _failure) = Publish(_directory.FullName);
        _probe = new Lazy<ProbeResult>(RunProbe);
    }

    /// <summary>The published library; fails the calling test with the build output if there is none.</summary>
    public string SharedObject
    {
        get
        {
            if (_failure is not null)
                Assert.Fail(_failure);
            return _path!;
        }
    }

    /// <summary>
    /// Asserts that LD_PRELOAD really puts the library in front of libc for <paramref name="functions"/>
    /// (all the functions the probe knows when none are named): the probe program names libc.so.6 for
    /// each when run plainly and <see cref="FileName"/> when preloaded. Without this, equal transcripts
    /// could mean only that the library was never loaded.
    /// </summary>
    public void AssertInEffect(params string[] functions)
    {
        ProbeResult probe = _probe.Value;
        AssertProbe("plain", probe.Plain, "libc.so.6", functions);
        AssertProbe("LD_PRELOAD=" + FileName, probe.Preloaded, FileName, functions);
    }

    public void Dispose()
    {
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a finished run for.
        }
    }

    private static (string? Path, string? Failure) Publish(string output)
    {
        string project = Path.Combine(TestPaths.RepositoryRoot, "src", "Preload", "EpollGen.Preload.csproj");
        string[] arguments = ["publish", project, "-c", "Release", "-r", "linux-x64", "-o", output, "-nologo", "--disable-build-servers"];
        var environment = new Dictionary<string, string?>
        {
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        };
        // The test host's MSBuild variables describe the build that made the tests; the publish finds its own.
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)))
            environment[name] = null;

        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        ChildProcessResult result = ChildProcess.Run(dotnet, arguments, PublishTimeout, environment, TestPaths.RepositoryRoot);
        string command = $"dotnet {string.Join(' ', arguments)}";
        if (result.ExitCode != 0)
            return (null, $"{command} exited with {result.ExitCode}. Last lines of its output:\n{Tail(result.Output + result.Error)}");
        string library = Path.Combine(output, FileName);
        if (!File.Exists(library))
            return (null, $"{command} succeeded but produced no {FileName}; the folder has: " +
                string.Join(", ", Directory.GetFiles(output).Select(Path.GetFileName)));
        return (library, null);
    }

    private static string Tail(string text)
    {
        string[] lines = text.Replace("\r\n", "\n").TrimEnd().Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - TailLines)));
    }

    private ProbeResult RunProbe()
    {
        string library = SharedObject;
        using var probe = new CProgram(TestPaths.Probe, "-ldl");
        return new ProbeResult(probe.RunPlain(), probe.RunPreloaded(library));
    }

    private static void AssertProbe(string how, ChildProcessResult run, string expected, string[] functions)
    {
        Assert.True(run.ExitCode == 0, $"the probe run {how} exited with {run.ExitCode}:\n{run.Output}\n{run.Error}");
        string[] lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length > 1 && lines[0] == "epoll_create1(0) succeeded: yes",
            $"the probe run {how} could not create an epoll set:\n{run.Output}\n{run.Error}");
        // After the first line, one "function library" line per replaced function.
        string[] checkedLines = lines.Skip(1).Where(line => functions.Length == 0 || functions.Contains(line.Split(' ')[0])).ToArray();
        if (functions.Length > 0)
            Assert.True(checkedLines.Length == functions.Length, $"the probe does not report each of {string.Join(", ", functions)}:\n{run.Output}");
        string[] wrong = checkedLines.Where(line => !line.EndsWith(" " + expected, StringComparison.Ordinal)).ToArray();
        Assert.True(wrong.Length == 0,
            $"run {how}, these functions do not come from {expected}:\n{string.Join('\n', wrong)}\nstderr:\n{run.Error}");
    }

    private sealed record ProbeResult(ChildProcessResult Plain, ChildProcessResult Preloaded);
}
