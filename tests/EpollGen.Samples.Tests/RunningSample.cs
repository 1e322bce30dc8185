using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;
using Xunit;

namespace EpollGen.Samples.Tests;

/// <summary>
/// A sample program running as a child process, its stdout and stderr collected line by line as
/// they come, so a test can wait for a line instead of sleeping. Disposal kills a child still
/// running, with its tree, so a failed test never leaves one behind.
/// </summary>
internal sealed partial class RunningSample : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    // Guards _lines; pulsed on every line and at the end of each stream.
    private readonly object _gate = new();
    private int _openStreams = 2;

    private RunningSample(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>Starts <paramref name="program"/> with <paramref name="arguments"/>, no shell between.</summary>
    public static RunningSample Start(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        var process = new Process { StartInfo = start };
        var sample = new RunningSample(process);
        process.OutputDataReceived += (_, e) => sample.Collect(e.Data);
        process.ErrorDataReceived += (_, e) => sample.Collect(e.Data);
        if (!process.Start())
            throw new InvalidOperationException($"could not start {program}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sample;
    }

    /// <summary>Every line so far, stdout and stderr interleaved as they arrived.</summary>
    public string Transcript
    {
        get
        {
            lock (_gate)
                return string.Join('\n', _lines);
        }
    }

    /// <summary>
    /// Returns the first line, written so far or before <paramref name="bound"/> passes, that
    /// contains <paramref name="text"/>; fails with the transcript when none does.
    /// </summary>
    public string WaitForLine(string text, TimeSpan bound)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(bound.TotalSeconds * Stopwatch.Frequency);
        bool outputEnded;
        lock (_gate)
        {
            while (true)
            {
                string? line = _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
                if (line is not null)
                    return line;
                TimeSpan left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                outputEnded = _openStreams == 0;
                if (left <= TimeSpan.Zero || outputEnded)
                    break;
                Monitor.Wait(_gate, left);
            }
        }
        // Output ends as a dying process drops its fds, a moment before it can be reaped.
        bool exited = _process.WaitForExit(outputEnded ? bound : TimeSpan.Zero);
        string ended = exited ? $"exited with {_process.ExitCode}" : "is still running";
        Assert.Fail($"no line with \"{text}\" within {bound.TotalSeconds} s; the program {ended}. Output:\n{Transcript}");
        return null!;
    }

    /// <summary>Sends <paramref name="signal"/> to the child.</summary>
    public void Signal(int signal) =>
        Assert.True(kill(_process.Id, signal) == 0, $"kill({_process.Id}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");

    /// <summary>Waits for the child to exit and for its streams to drain; fails with the transcript past <paramref name="bound"/>.</summary>
    public int WaitForExit(TimeSpan bound)
    {
        if (!_process.WaitForExit(bound))
            Assert.Fail($"still running {bound.TotalSeconds} s later. Output:\n{Transcript}");
        // The timed wait can return before the redirected streams are drained; this one waits for them.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }

    private void Collect(string? line)
    {
        lock (_gate)
        {
            // A null line is the end of one stream.
            if (line is null)
                _openStreams--;
            else
                _lines.Add(line);
            Monitor.PulseAll(_gate);
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
