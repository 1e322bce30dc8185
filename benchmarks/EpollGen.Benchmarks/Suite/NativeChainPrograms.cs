using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace EpollGen.Benchmarks.Suite;

/// <summary>One compiled C version of the chain workload, run as a process per measurement.</summary>
internal sealed record NativeChainProgram(string Name, string Path, string Library, bool EdgeTriggered)
{
    /// <summary>
    /// Runs <paramref name="iterations"/> iterations in a fresh process; returns its median µs per
    /// iteration (the first iteration left out). Throws with the program's stderr if it fails.
    /// </summary>
    public double MedianMicroseconds(int pairs, int active, int writes, int iterations, string mode)
    {
        string output = NativeChainPrograms.Run(Path, ["-n", Num(pairs), "-a", Num(active), "-w", Num(writes), "-i", Num(iterations), "-m", mode]);
        string? summary = output.Split('\n').FirstOrDefault(l => l.StartsWith("summary ", StringComparison.Ordinal));
        string? median = summary?.Split(' ').FirstOrDefault(f => f.StartsWith("median_us=", StringComparison.Ordinal));
        return median is not null
            ? double.Parse(median["median_us=".Length..], CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"{Name}: no summary line in its output");
    }

    private static string Num(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The chain workload in C, compiled with gcc when the suite starts: over raw epoll
/// (benchmarks/PreloadBench/chain.c), over libevent and over libev (Suite/Native). A library whose
/// development package is absent is reported as skipped, not as a failure.
/// </summary>
internal sealed class NativeChainPrograms : IDisposable
{
    private readonly string _directory;

    private NativeChainPrograms(string directory, List<NativeChainProgram> programs, List<string> notes)
    {
        _directory = directory;
        Programs = programs;
        Notes = notes;
    }

    public IReadOnlyList<NativeChainProgram> Programs { get; }

    /// <summary>One sentence per row that will be missing, and why.</summary>
    public IReadOnlyList<string> Notes { get; }

    public static NativeChainPrograms Build(TextWriter log)
    {
        string directory = Directory.CreateTempSubdirectory("epollgen-suite-").FullName;
        var programs = new List<NativeChainProgram>();
        var notes = new List<string>();
        string sources = Path.Combine(AppContext.BaseDirectory, "Native");
        if (!CanRun("gcc", "--version"))
        {
            notes.Add("gcc not found: the C rows (raw epoll in C, libevent, libev) are skipped (apt-get install gcc).");
            return new NativeChainPrograms(directory, programs, notes);
        }
        (string Name, string Source, string? Library, string Package, string Header)[] candidates =
        [
            (Implementations.RawEpollC, "chain.c", null, "libc6-dev", "sys/epoll.h"),
            (Implementations.Libevent, "chain_libevent.c", "event", "libevent-dev", "event2/event.h"),
            (Implementations.Libev, "chain_libev.c", "ev", "libev-dev", "ev.h"),
        ];
        foreach ((string name, string source, string? library, string package, string header) in candidates)
        {
            string binary = Path.Combine(directory, Path.GetFileNameWithoutExtension(source));
            List<string> gccArgs = ["-O2", "-Wall", "-o", binary, Path.Combine(sources, source)];
            if (library is not null)
                gccArgs.Add("-l" + library);
            (int exit, string stderr) = Execute("gcc", gccArgs);
            if (exit != 0)
            {
                // A missing header or library is the package being absent; anything else is a real build failure.
                bool absent = stderr.Contains(header + ": No such file", StringComparison.Ordinal)
                    || (library is not null && stderr.Contains("cannot find -l" + library, StringComparison.Ordinal));
                notes.Add(absent
                    ? $"{package} not installed: {name} row skipped (apt-get install {package})."
                    : $"{name} did not build, row skipped: {stderr.Split('\n').FirstOrDefault(l => l.Contains("error", StringComparison.Ordinal)) ?? stderr.Trim()}");
                continue;
            }
            // A tiny run proves the program works here and tells which library version it uses.
            string config;
            try
            {
                config = Run(binary, ["-n", "4", "-a", "2", "-w", "10", "-i", "2"]).Split('\n')[0];
            }
            catch (InvalidOperationException e)
            {
                notes.Add($"{name} built but does not run, row skipped: {e.Message}");
                continue;
            }
            string version = config.Split(' ').FirstOrDefault(f => f.StartsWith("library=", StringComparison.Ordinal))?["library=".Length..] ?? "libc epoll";
            programs.Add(new NativeChainProgram(name, binary, version, EdgeTriggered: source != "chain_libev.c"));
            log.WriteLine($"built {name}: {version}");
        }
        return new NativeChainPrograms(directory, programs, notes);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    internal static string Run(string program, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? stdout
            : throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result.Trim()}");
    }

    private static (int Exit, string Stderr) Execute(string program, IReadOnlyList<string> args)
    {
        var start = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        _ = stdout.Result;
        return (process.ExitCode, stderr);
    }

    private static bool CanRun(string program, string argument)
    {
        try
        {
            return Execute(program, [argument]).Exit == 0;
        }
        catch (Win32Exception)
        {
            return false;
        }
    }

    /// <summary>gcc's own first line of <c>--version</c>, for the report; null without gcc.</summary>
    public static string? GccVersion()
    {
        try
        {
            return Run("gcc", ["--version"]).Split('\n')[0].Trim();
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }
}
