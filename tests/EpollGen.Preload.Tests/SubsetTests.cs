using System.IO;
using EpollGen.Preload.Tests.Infrastructure;
using EpollGen.Testing;
using Xunit;

namespace EpollGen.Preload.Tests;

/// <summary>
/// What the preload does where it differs from Linux on purpose, checked against fixed text: a
/// documented subset is still a tested one. The kernel's run is shown too, so the difference is
/// the documented one and no other.
/// </summary>
[Collection(PreloadCollection.Name)]
public sealed class SubsetTests(PreloadLibrary library)
{
    [Fact]
    public void ForkAfterTheRuntimeStarted_ChildGetsTheKernelsEpoll_AndEnosysOnInheritedSets()
    {
        using var program = new CProgram(Path.Combine(TestPaths.Subsets, "fork_after_start.c"));

        ChildProcessResult preloaded = program.RunPreloaded(library.SharedObject);
        Assert.True(preloaded.ExitCode == 0, $"exit {preloaded.ExitCode}:\n{preloaded.Error}\n{preloaded.Output}");
        Assert.Equal(
            """
            child: wait on the inherited set: -1 ENOSYS
            child: DEL on the inherited set: -1 ENOSYS
            child: own set: yes
            child: own set reports: 1 data=2
            child: close the inherited set: 0
            parent: its set still reports: 1 data=1

            """, preloaded.Output);

        // Linux shares the set with the child: the child's wait reports and its DEL reaches the
        // parent's set, which then reports nothing.
        ChildProcessResult plain = program.RunPlain();
        Assert.Equal(0, plain.ExitCode);
        Assert.Contains("child: wait on the inherited set: 1 0\n", plain.Output);
        Assert.Contains("parent: its set still reports: 0 data=0\n", plain.Output);
    }
}
