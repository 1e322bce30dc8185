using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit;

namespace EpollGen.Samples.Tests;

/// <summary>
/// samples/EpollGen.HostedService run as a service is run: its built dll under the dotnet host,
/// driven from outside by a file in its watched directory, SIGHUP and SIGTERM.
/// </summary>
public sealed class HostedServiceTests
{
    private const int SIGHUP = 1;
    private const int SIGTERM = 15;

    // A cold start JITs the host and the runtime on a shared two-core machine, and the sample
    // executes itself once more to start with SIGHUP blocked.
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan EventBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(20);

    [Fact]
    public void HostedService_FileSighupAndTicks_LoggedThenSigtermStopsWithExitZero()
    {
        DirectoryInfo watched = Directory.CreateTempSubdirectory("epollgen-hosted-");
        try
        {
            using RunningSample sample = RunningSample.Start(DotnetHost(), [SampleDll(), $"--Loop:WatchDirectory={watched.FullName}", "--Loop:TickInterval=00:00:00.250"]);
            // The pid it logs is the one started: the re-execution keeps it.
            sample.WaitForLine($"started: pid {sample.Pid}, watching {watched.FullName},", StartBound);

            string name = $"hello-{Guid.NewGuid():N}.txt";
            string path = Path.Combine(watched.FullName, name);
            File.WriteAllText(path, "hello");
            sample.WaitForLine("created " + name, EventBound);

            // Blocked in every thread of the child and read from its signalfd. Had any thread left
            // it open, it would have been delivered there and ended the child (exit 129, seen with
            // the sample's re-execution left out).
            sample.Signal(SIGHUP);
            sample.WaitForLine("reload requested", EventBound);

            sample.WaitForLine("tick ", EventBound);

            File.Delete(path);
            sample.WaitForLine("deleted " + name, EventBound);

            sample.Signal(SIGTERM);
            int exitCode = sample.WaitForExit(StopBound);
            string transcript = sample.Transcript;
            Assert.True(exitCode == 0, $"exit code {exitCode}. Output:\n{transcript}");
            Assert.Contains(transcript.Split('\n'), line => line.Contains("stopped: fds closed", StringComparison.Ordinal));
            Assert.DoesNotContain(transcript.Split('\n'), line => line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal));
        }
        finally
        {
            watched.Delete(recursive: true);
        }
    }

    // The host that runs this test, when the SDK says which; else the one on PATH.
    private static string DotnetHost() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static string SampleDll()
    {
        string path = typeof(HostedServiceTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "HostedServiceDll").Value!;
        Assert.True(File.Exists(path), $"{path} is missing: build samples/EpollGen.HostedService (the test project's reference does)");
        return path;
    }
}
