using System.Diagnostics;
using Xunit;

namespace EpollGen.Analyzers.Tests.Infrastructure;

/// <summary>Runs the dotnet CLI as a child process the way a consumer's machine would, isolated from the outer build.</summary>
internal static class DotnetCli
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    /// <summary>
    /// Runs dotnet with <paramref name="arguments"/>; fails the test on a non-zero exit. Packages are
    /// restored into <paramref name="packagesFolder"/> so nothing stale or shared is used;
    /// <paramref name="environment"/> sets variables, or removes those given null.
    /// </summary>
    public static string Run(string workingDirectory, string packagesFolder, Action<string> log, IReadOnlyDictionary<string, string?>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        // The test host's MSBuild variables point at the outer build; the child finds its own.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToArray())
            start.Environment.Remove(name);
        start.Environment["NUGET_PACKAGES"] = packagesFolder;
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach ((string name, string? value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                start.Environment.Remove(name);
            else
                start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(StepTimeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', arguments)} took longer than {StepTimeout}");
        }
        process.WaitForExit();
        string output = stdout.Result + stderr.Result;
        log($"$ dotnet {string.Join(' ', arguments)}\n{output}");
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited {process.ExitCode}:\n{output}");
        return output;
    }
}
