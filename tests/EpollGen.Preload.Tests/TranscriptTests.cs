using System;
using System.IO;
using System.Linq;
using EpollGen.Preload.Tests.Infrastructure;
using EpollGen.Testing;
using Xunit;
using Xunit.Abstractions;

namespace EpollGen.Preload.Tests;

/// <summary>
/// The preload's contract: an unmodified C program cannot tell libepollgen.so from the kernel's
/// epoll. Each program under programs/ prints a deterministic transcript of what the epoll API
/// answered; run plainly and with LD_PRELOAD it must print the same text and exit 0 both times.
/// </summary>
[Collection(PreloadCollection.Name)]
public sealed class TranscriptTests
{
    private readonly PreloadLibrary _library;
    private readonly ITestOutputHelper _output;

    public TranscriptTests(PreloadLibrary library, ITestOutputHelper output)
    {
        _library = library;
        _output = output;
    }

    /// <summary>Every programs/*.c, by name without the extension.</summary>
    public static TheoryData<string> Programs()
    {
        var programs = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(TestPaths.Programs, "*.c").Order())
            programs.Add(Path.GetFileNameWithoutExtension(file));
        return programs;
    }

    /// <summary>
    /// Where EpollGen knowingly answers otherwise, line by line: the kernel's line, and what
    /// EpollGen prints instead. Each kernel line must still appear (a stale entry fails), and the
    /// rest of the transcript must match exactly. docs/preload.md explains each.
    /// </summary>
    private static readonly (string Program, string Kernel, string EpollGen)[] KnownDivergences = [];

    [Fact]
    public void Probe_NamesLibcPlainAndTheLibraryPreloaded() => _library.AssertInEffect();

    [Theory]
    [MemberData(nameof(Programs))]
    public void Program_PrintsTheSameWithAndWithoutThePreload(string program)
    {
        string library = _library.SharedObject;
        // Only that the library is in front at all; the probe fact reports each replaced function.
        _library.AssertInEffect("epoll_create1");
        using var compiled = new CProgram(Path.Combine(TestPaths.Programs, program + ".c"));

        ChildProcessResult plain = compiled.RunPlain();
        _output.WriteLine($"{program}, on the kernel's epoll:\n{plain.Output}");
        Assert.True(plain.ExitCode == 0, $"{program} failed on the kernel's own epoll (exit {plain.ExitCode}), so the program is wrong:\n{plain.Error}");
        Assert.False(string.IsNullOrWhiteSpace(plain.Output), $"{program} printed nothing");

        string expected = plain.Output;
        foreach ((string _, string kernel, string epollGen) in KnownDivergences.Where(d => d.Program == program))
        {
            Assert.True(expected.Contains(kernel + "\n", StringComparison.Ordinal), $"{program}: the known divergence \"{kernel}\" no longer appears on the kernel; remove it from the table");
            expected = expected.Replace(kernel + "\n", epollGen + "\n", StringComparison.Ordinal);
        }

        ChildProcessResult preloaded = compiled.RunPreloaded(library);
        string difference = expected == preloaded.Output
            ? ""
            : "\n" + TranscriptDiff.Describe(expected, preloaded.Output, "kernel (known divergences applied)", "LD_PRELOAD=" + PreloadLibrary.FileName);
        Assert.True(preloaded.ExitCode == 0,
            $"{program} exited with {preloaded.ExitCode} under LD_PRELOAD.\nstderr:\n{preloaded.Error}{difference}");
        Assert.True(difference.Length == 0, $"{program} printed something else under LD_PRELOAD:{difference}");
    }

    // io_uring sets hold more fds of their own (a ring, a shadow epoll, eventfds), all above the
    // numbers a program is handed, and a ring probed at a full table is not io_uring's failure.
    [Fact]
    public void FdNumbers_OnIoUringSets_AreLinuxs()
    {
        using var compiled = new CProgram(Path.Combine(TestPaths.Programs, "fd_numbers.c"));
        ChildProcessResult plain = compiled.RunPlain();
        Assert.Equal(0, plain.ExitCode);

        ChildProcessResult preloaded = compiled.RunPreloaded(_library.SharedObject,
            new System.Collections.Generic.Dictionary<string, string?> { ["EPOLLGEN_TAP_BACKEND"] = "io_uring" });

        Assert.True(preloaded.ExitCode == 0, $"exit {preloaded.ExitCode}:\n{preloaded.Error}");
        Assert.True(plain.Output == preloaded.Output,
            "fd_numbers printed something else on io_uring sets:\n" + TranscriptDiff.Describe(plain.Output, preloaded.Output, "kernel", "LD_PRELOAD=" + PreloadLibrary.FileName + ", io_uring sets"));
    }
}
