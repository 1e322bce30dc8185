using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using EpollGen.Interop;
using EpollGen.Taps;
using EpollGen.Testing;
using Xunit;
using static EpollGen.Runtime.Tests.Native.TestLibC;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>
/// Process-directed signals, as kill(1) sends them, reaching a SignalFdReader's waiting read. That
/// needs the signal blocked in every thread, which the test host cannot give (its threads exist
/// already), so the test runs <see cref="SignalFdReaderInChildTests"/> in a child test run started
/// with the signal blocked: a mask survives fork and execve, and every thread the child's runtime
/// starts inherits it.
/// </summary>
[Collection(SignalCollection.Name)]
public sealed class SignalFdReaderProcessTests
{
    public const string ChildVariable = "EPOLLGEN_SIGNALFD_CHILD";
    public const int SIGUSR1 = 10;

    [Fact]
    public void KillToAProcessThatBlocksTheSignalEverywhere_ReachesAWaitingRead_OnBothBackends()
    {
        ChildProcessResult result = default!;
        SignalFdReaderTests.WithBlocked(() => result = ChildProcess.Run(
            Environment.ProcessPath!,
            ["test", typeof(SignalFdReaderProcessTests).Assembly.Location,
             "--filter", $"FullyQualifiedName~{nameof(SignalFdReaderInChildTests)}",
             "--logger", "console;verbosity=normal"],
            TimeSpan.FromMinutes(2),
            new Dictionary<string, string?> { [ChildVariable] = "1" }), SIGUSR1);

        Assert.True(result.ExitCode == 0, $"the child run failed ({result.ExitCode}):\n{result.Output}\n{result.Error}");
        // Two variants ran and passed, rather than none matching the filter.
        Assert.Matches(@"Passed:\s+2\b", result.Output);
    }
}

/// <summary>Runs only in the child that <see cref="SignalFdReaderProcessTests"/> starts; skipped elsewhere.</summary>
public sealed class InSignalChildFactAttribute : FactAttribute
{
    public InSignalChildFactAttribute()
    {
        if (Environment.GetEnvironmentVariable(SignalFdReaderProcessTests.ChildVariable) != "1")
            Skip = "runs in the child test run that SignalFdReaderProcessTests starts with SIGUSR1 blocked in every thread";
    }
}

// One at a time: both variants read SIGUSR1, and a signal one of them sent could reach the other's reader.
[Collection(SignalCollection.Name)]
public abstract partial class SignalFdReaderInChildTests(TapBackendKind backend) : AdapterTests(backend)
{
    private const int SI_USER = 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [InSignalChildFact]
    public async Task KillToTheProcess_CompletesAWaitingRead()
    {
        const int SIGUSR1 = SignalFdReaderProcessTests.SIGUSR1;
        Assert.True(SignalFdReader.IsBlockedInEveryThread(SIGUSR1), "the child's threads do not all block SIGUSR1");
        using var reader = new SignalFdReader([SIGUSR1], Engine);
        await using IAsyncEnumerator<SignalFdSigInfo> signals = reader.GetAsyncEnumerator();

        for (int i = 0; i < 3; i++)
        {
            ValueTask<bool> next = signals.MoveNextAsync();
            Assert.False(next.IsCompleted);
            Assert.Equal(0, kill(getpid(), SIGUSR1));

            Assert.True(await next.AsTask().WaitAsync(Bound));
            Assert.Equal((uint)SIGUSR1, signals.Current.ssi_signo);
            Assert.Equal(SI_USER, signals.Current.ssi_code);
            Assert.Equal((uint)getpid(), signals.Current.ssi_pid);
        }
    }
}

[Collection(SignalCollection.Name)]
public sealed class SignalFdReaderInChildTests_Epoll() : SignalFdReaderInChildTests(TapBackendKind.Epoll);

[Collection(SignalCollection.Name)]
public sealed class SignalFdReaderInChildTests_IoUring() : SignalFdReaderInChildTests(TapBackendKind.IoUring);
