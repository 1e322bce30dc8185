using System;
using EpollGen.Events;
using EpollGen.Native.IoUring;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>
/// Which backend a queue gets. The environment is injected as a value: mutating this process's
/// environment would change the backend of every queue the other tests create in parallel.
/// </summary>
public sealed class TapBackendSelectionTests
{
    private const string Unusable = "io_uring_setup failed with errno 1";

    [Theory]
    [InlineData(null, TapBackendKind.IoUring)]
    [InlineData("", TapBackendKind.IoUring)]
    [InlineData("epoll", TapBackendKind.Epoll)]
    [InlineData(" EPOLL ", TapBackendKind.Epoll)]
    [InlineData("io_uring", TapBackendKind.IoUring)]
    [InlineData("IO_URING", TapBackendKind.IoUring)]
    public void WhereIoUringWorks_TheEnvironmentPicksOrIoUringIsTheDefault(string? environment, TapBackendKind expected)
    {
        Assert.Equal(expected, TapBackendSelection.Choose(null, environment, ioUringProblem: null));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("epoll")]
    public void WhereIoUringIsUnusable_EpollIsTheDefault(string? environment)
    {
        Assert.Equal(TapBackendKind.Epoll, TapBackendSelection.Choose(null, environment, Unusable));
    }

    [Fact]
    public void AnExplicitChoice_BeatsTheEnvironment()
    {
        Assert.Equal(TapBackendKind.Epoll, TapBackendSelection.Choose(TapBackendKind.Epoll, "io_uring", null));
        Assert.Equal(TapBackendKind.IoUring, TapBackendSelection.Choose(TapBackendKind.IoUring, "epoll", null));
    }

    [Fact]
    public void ForcingIoUringWhereItIsUnusable_ThrowsWithTheReason()
    {
        var byArgument = Assert.Throws<NotSupportedException>(() => TapBackendSelection.Choose(TapBackendKind.IoUring, null, Unusable));
        Assert.Contains(Unusable, byArgument.Message);

        var byEnvironment = Assert.Throws<NotSupportedException>(() => TapBackendSelection.Choose(null, "io_uring", Unusable));
        Assert.Contains(Unusable, byEnvironment.Message);
        Assert.Contains(TapBackendSelection.EnvironmentVariable, byEnvironment.Message);
    }

    [Fact]
    public void AnUnknownName_IsAnErrorNotTheDefault()
    {
        var error = Assert.Throws<ArgumentException>(() => TapBackendSelection.Choose(null, "uring", null));
        Assert.Contains(TapBackendSelection.EnvironmentVariable, error.Message);
        Assert.Throws<ArgumentException>(() => TapBackendSelection.Choose((TapBackendKind)7, null, null));
    }

    [Fact]
    public void ADefaultQueue_GetsWhatTheSelectionSaysForThisProcess()
    {
        TapBackendKind expected = TapBackendSelection.Choose(null, Environment.GetEnvironmentVariable(TapBackendSelection.EnvironmentVariable), IoUringRing.UnsupportedReason);

        using var queue = new EventQueue();

        Assert.Equal(expected, queue.TapBackend);
    }

    [Fact]
    public void ThisMachine_DefaultsToIoUring_UnlessTheEnvironmentSaysOtherwise()
    {
        Assert.Null(IoUringRing.UnsupportedReason);
        if (Environment.GetEnvironmentVariable(TapBackendSelection.EnvironmentVariable) is null or "")
        {
            using var queue = new EventQueue();
            Assert.Equal(TapBackendKind.IoUring, queue.TapBackend);
        }
    }
}
