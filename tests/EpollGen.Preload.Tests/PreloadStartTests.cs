using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using EpollGen.Preload.Tests.Infrastructure;
using EpollGen.Testing;
using Xunit;

namespace EpollGen.Preload.Tests;

/// <summary>
/// Which processes start EpollGen's runtime, seen through <c>EPOLLGEN_STARTED_DIR</c> (each process
/// that starts it leaves a file named by its pid there): what a transcript cannot show, since the
/// kernel's own epoll would print the same lines.
/// </summary>
[Collection(PreloadCollection.Name)]
public sealed class PreloadStartTests(PreloadLibrary library)
{
    [Fact]
    public void ProbeThenFork_TheChildStartsItsOwnRuntime_AndTheProbeStartsNone()
    {
        using var program = new CProgram(Path.Combine(TestPaths.Programs, "probe_then_fork.c"));
        DirectoryInfo started = Directory.CreateTempSubdirectory("epollgen-started-");
        try
        {
            ChildProcessResult run = program.RunPreloaded(library.SharedObject, new Dictionary<string, string?> { ["EPOLLGEN_STARTED_DIR"] = started.FullName });
            Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}:\n{run.Output}\n{run.Error}");
            Assert.Contains("child: wait up to 1000ms: 1 {0x1 data=0xc1}\n", run.Output);
            int parent = Pid(run.Error, "parent");
            int child = Pid(run.Error, "child");

            string[] files = started.GetFiles().Select(f => f.Name).Order().ToArray();
            // The child forked after a probe that started nothing, so its set is EpollGen's own
            // (a child forked after the runtime started would have the kernel's).
            Assert.True(files.Contains(child.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                $"the child ({child}) did not start EpollGen's runtime; started: [{string.Join(", ", files)}]");
            Assert.True(!files.Contains(parent.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                $"the parent ({parent}) started EpollGen's runtime for a probe (create and close)");
            Assert.Single(files);
        }
        finally
        {
            started.Delete(recursive: true);
        }
    }

    private static int Pid(string stderr, string who)
    {
        Match match = Regex.Match(stderr, $@"^{who} pid (\d+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no \"{who} pid\" line in stderr:\n{stderr}");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
