using System;
using System.Collections.Generic;
using System.Diagnostics;
using Xunit;

namespace EpollGen.Testing;

/// <summary>How a finished child process ended: its exit code and what it wrote to each stream.</summary>
/// <param name="ExitCode">The exit code; a child killed by signal n shows as 128 + n, as .NET reports it on Unix.</param>
/// <param name="Output">Everything written to stdout.</param>
/// <param name="Error">Everything written to stderr.</param>
internal sealed record ChildProcessResult(int ExitCode, string Output, string Error);

/// <summary>
/// Runs a program to completion with both streams captured. A program that outlives its timeout is
/// killed with its whole tree and fails the calling test, so a hung child never hangs the run.
/// </summary>
internal static class ChildProcess
{
    /// <summary>Runs <paramref name="program"/> and returns how it ended, whatever the exit code.</summary>
    /// <param name="program">The executable, a path or a name found on PATH.</param>
    /// <param name="arguments">Its arguments, passed without a shell.</param>
    /// <param name="timeout">How long it may run before it is killed and the test fails.</param>
    /// <param name="environment">Variables to set; a null value removes the variable the child would inherit.</param>
    /// <param name="workingDirectory">Its working directory; the test host's when null.</param>
    public static ChildProcessResult Run(
        string program,
        IEnumerable<string> arguments,
        TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? environment = null,
        string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (KeyValuePair<string, string?> variable in environment ?? new Dictionary<string, string?>())
        {
            if (variable.Value is null)
                start.Environment.Remove(variable.Key);
            else
                start.Environment[variable.Key] = variable.Value;
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        // Both pipes drain concurrently: a child that fills one while we block on the other would deadlock.
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{program} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalSeconds} s. " +
                $"Its output so far:\n{output.Result}\n{error.Result}");
        }
        // The timed wait can return before the redirected streams are drained; this one waits for them.
        process.WaitForExit();
        return new ChildProcessResult(process.ExitCode, output.Result, error.Result);
    }
}
