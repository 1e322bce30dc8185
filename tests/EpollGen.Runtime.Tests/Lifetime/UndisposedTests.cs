using System;
using System.IO;
using System.Runtime.CompilerServices;
using EpollGen.Events;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.Lifetime;

/// <summary>
/// Sets and queues a program forgets to dispose give their kernel resources back when they are
/// collected: their fds (kernel epolls, eventfds, rings) are owned by SafeHandles, whose critical
/// finalizers close them. Each leaked object holds at least two fds, so 200 of them would leave
/// 400 or more open; the slack absorbs what tests running beside this one open meanwhile.
/// </summary>
// Alone: it counts the process's open fds, which tests running beside it open and close (seen in
// CI: an AsyncFd test's fds closed while 200 sets were made, and the count fell 3 short).
[Collection(SignalCollection.Name)]
public sealed class UndisposedTests
{
    private const int Objects = 200;
    private const int Slack = 60;

    [Theory]
    [InlineData(TapBackendKind.Epoll)]
    [InlineData(TapBackendKind.IoUring)]
    public void UndisposedSets_CloseTheirFds_WhenCollected(TapBackendKind backend)
    {
        int before = OpenFds();
        int peak = MakeAndDrop(() => new EpollSet(tapBackend: backend));
        Assert.True(peak >= before + 2 * Objects, $"the sets were not made: {before} fds before, {peak} with them");

        int after = OpenFdsAfterCollecting();

        Assert.True(after <= before + Slack, $"{before} fds before, {peak} with {Objects} sets, {after} after they were collected");
    }

    [Theory]
    [InlineData(TapBackendKind.Epoll)]
    [InlineData(TapBackendKind.IoUring)]
    public void UndisposedQueues_CloseTheirFds_WhenCollected(TapBackendKind backend)
    {
        int before = OpenFds();
        int peak = MakeAndDrop(() => new EventQueue(tapBackend: backend));
        Assert.True(peak >= before + 2 * Objects, $"the queues were not made: {before} fds before, {peak} with them");

        int after = OpenFdsAfterCollecting();

        Assert.True(after <= before + Slack, $"{before} fds before, {peak} with {Objects} queues, {after} after they were collected");
    }

    // Makes the objects in a frame of its own, so nothing on the test's stack keeps them; returns
    // the fd count while they lived.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int MakeAndDrop(Func<object> make)
    {
        var made = new object[Objects];
        for (int i = 0; i < Objects; i++)
            made[i] = make();
        int peak = OpenFds();
        GC.KeepAlive(made);
        return peak;
    }

    private static int OpenFdsAfterCollecting()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return OpenFds();
    }

    private static int OpenFds() => Directory.GetFiles("/proc/self/fd").Length;
}
