using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>InotifyWatcher on a real directory, on each tap backend's engines.</summary>
public abstract class InotifyWatcherTests(TapBackendKind backend) : AdapterTests(backend)
{
    private readonly string _directory = Directory.CreateTempSubdirectory("epollgen-inotify-").FullName;

    public override void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        base.Dispose();
    }

    private InotifyWatcher Open() => new(Engine);

    [Fact]
    public async Task ManyEvents_WithNamesOfEveryLength_DecodeInOrder_AcrossSeveralReads()
    {
        using InotifyWatcher watcher = Open();
        int watch = watcher.AddWatch(_directory, InotifyMask.IN_CREATE);
        // 400 names of 3 to 200 bytes: records of 32 to 224 bytes, about 50 KiB in all, so
        // several reads of the 16 KiB buffer, each holding many records.
        var names = new List<string>();
        for (int i = 0; i < 400; i++)
            names.Add($"{i:D3}" + new string('x', i % 198));
        foreach (string name in names)
            File.Create(Path.Combine(_directory, name)).Dispose();

        foreach (string name in names)
        {
            InotifyNotification notification = await watcher.ReadAsync().AsTask().WaitAsync(Bound);
            Assert.Equal(watch, notification.Watch);
            Assert.Equal(InotifyMask.IN_CREATE, notification.Mask);
            Assert.Equal(name, notification.DecodeName());
        }
        Assert.False(watcher.TryRead(out _));
    }

    [Fact]
    public async Task APendingRead_CompletesWhenAnEventComes()
    {
        using InotifyWatcher watcher = Open();
        watcher.AddWatch(_directory, InotifyMask.IN_CREATE);
        ValueTask<InotifyNotification> pending = watcher.ReadAsync();
        Assert.False(pending.IsCompleted);

        Directory.CreateDirectory(Path.Combine(_directory, "sub"));

        InotifyNotification notification = await pending.AsTask().WaitAsync(Bound);
        Assert.Equal(InotifyMask.IN_CREATE | InotifyMask.IN_ISDIR, notification.Mask);
        Assert.Equal("sub", notification.DecodeName());
    }

    [Fact]
    public async Task ARename_IsAMovedPair_WithOneCookie()
    {
        File.Create(Path.Combine(_directory, "before")).Dispose();
        using InotifyWatcher watcher = Open();
        watcher.AddWatch(_directory, InotifyMask.IN_MOVE);

        File.Move(Path.Combine(_directory, "before"), Path.Combine(_directory, "after"));

        InotifyNotification from = await watcher.ReadAsync().AsTask().WaitAsync(Bound);
        InotifyNotification to = await watcher.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.Equal((InotifyMask.IN_MOVED_FROM, "before"), (from.Mask, from.DecodeName()));
        Assert.Equal((InotifyMask.IN_MOVED_TO, "after"), (to.Mask, to.DecodeName()));
        Assert.NotEqual(0u, from.Cookie);
        Assert.Equal(from.Cookie, to.Cookie);
    }

    [Fact]
    public async Task RemoveWatch_IsFollowedByInIgnored_AndASecondRemoveIsEinval()
    {
        using InotifyWatcher watcher = Open();
        int watch = watcher.AddWatch(_directory, InotifyMask.IN_CREATE);

        watcher.RemoveWatch(watch);

        InotifyNotification ignored = await watcher.ReadAsync().AsTask().WaitAsync(Bound);
        Assert.Equal(watch, ignored.Watch);
        Assert.Equal(InotifyMask.IN_IGNORED, ignored.Mask);
        Assert.True(ignored.NameUtf8.IsEmpty);
        Assert.Equal(EINVAL, Assert.Throws<FdException>(() => watcher.RemoveWatch(watch)).Errno);
    }

    [Fact]
    public void AddWatch_OfAMissingPath_IsFdException_WithEnoent()
    {
        using InotifyWatcher watcher = Open();

        FdException error = Assert.Throws<FdException>(() => watcher.AddWatch(Path.Combine(_directory, "missing"), InotifyMask.IN_ALL_EVENTS));

        Assert.Equal(ENOENT, error.Errno);
        Assert.Contains("missing", error.Operation);
    }

    [Fact]
    public async Task Enumeration_YieldsEvents_AndEndsWhenTheWatcherIsDisposed()
    {
        var watcher = Open();
        watcher.AddWatch(_directory, InotifyMask.IN_CREATE);
        File.Create(Path.Combine(_directory, "one")).Dispose();
        await using IAsyncEnumerator<InotifyNotification> events = watcher.GetAsyncEnumerator();

        Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(Bound));
        Assert.Equal("one", events.Current.DecodeName());
        ValueTask<bool> next = events.MoveNextAsync();
        Assert.False(next.IsCompleted);
        watcher.Dispose();

        Assert.False(await next.AsTask().WaitAsync(Bound));
        Assert.False(await events.MoveNextAsync());
    }

    [Fact]
    public async Task Cancellation_EndsAPendingRead()
    {
        using InotifyWatcher watcher = Open();
        watcher.AddWatch(_directory, InotifyMask.IN_CREATE);
        using var cancellation = new CancellationTokenSource();
        ValueTask<InotifyNotification> pending = watcher.ReadAsync(cancellation.Token);

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.AsTask().WaitAsync(Bound));
    }

    [Fact]
    public void SteadyState_ReadsOfQueuedEvents_AllocateNothing()
    {
        using InotifyWatcher watcher = Open();
        watcher.AddWatch(_directory, InotifyMask.IN_CREATE);
        const int Count = 300;
        // inotify queues an event before the creating call returns: all are there before the reads.
        for (int i = 0; i < Count; i++)
            File.Create(Path.Combine(_directory, $"f{i}")).Dispose();
        int failed = ReadAtOnce(watcher, 10) ? 0 : 1;

        long before = GC.GetAllocatedBytesForCurrentThread();
        failed += ReadAtOnce(watcher, Count - 10) ? 0 : 1;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, failed);
        Assert.Equal(0, allocated);
    }

    // No asserts in the measured loop: a failing one would allocate its message.
    private static bool ReadAtOnce(InotifyWatcher watcher, int count)
    {
        for (int i = 0; i < count; i++)
        {
            ValueTask<InotifyNotification> read = watcher.ReadAsync();
            if (!read.IsCompletedSuccessfully || read.Result.Mask != InotifyMask.IN_CREATE || read.Result.NameUtf8.Span[0] != (byte)'f')
                return false;
        }
        return true;
    }
}

public sealed class InotifyWatcherTests_Epoll() : InotifyWatcherTests(TapBackendKind.Epoll);

public sealed class InotifyWatcherTests_IoUring() : InotifyWatcherTests(TapBackendKind.IoUring);
