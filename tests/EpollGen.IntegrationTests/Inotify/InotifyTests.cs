using System;
using System.IO;
using System.Linq;
using System.Runtime.Versioning;
using EpollGen.Interop;
using Xunit;
using static EpollGen.IntegrationTests.Inotify.InotifyMask;

namespace EpollGen.IntegrationTests.Inotify;

/// <summary>Real inotify traffic decoded with the generated struct and flag map.</summary>
[SupportedOSPlatform("linux")]
public sealed class InotifyTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("epollgen-inotify-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void CreatingAFile_ReportsInCreateWithItsName()
    {
        using var watcher = new InotifyWatcher();
        int watch = watcher.Add(_directory.FullName, IN_CREATE | IN_CLOSE_WRITE);

        File.WriteAllText(Path.Combine(_directory.FullName, "created.txt"), "hello");
        var records = watcher.ReadUntil(r => r.Any(x => x.Mask.HasFlag(IN_CLOSE_WRITE)), Timeout);

        // The kernel queues IN_CREATE at open(2) and IN_CLOSE_WRITE at close(2): two records, in that order.
        Assert.Equal(
            new[] { new InotifyRecord(watch, IN_CREATE, 0, "created.txt"), new InotifyRecord(watch, IN_CLOSE_WRITE, 0, "created.txt") },
            records);
    }

    [Fact]
    public void SeveralFiles_AreWalkedAsOneBufferOfRecords()
    {
        string[] names = { "a", "name-longer-than-one-record-alignment-unit.txt", "ü-utf8.bin" };
        using var watcher = new InotifyWatcher();
        int watch = watcher.Add(_directory.FullName, IN_CREATE);

        foreach (string name in names)
            File.Create(Path.Combine(_directory.FullName, name)).Dispose();
        var records = watcher.ReadUntil(r => r.Count >= names.Length, Timeout);

        Assert.Equal(names.Select(n => new InotifyRecord(watch, IN_CREATE, 0, n)), records);
    }

    [Fact]
    public void WatchedFileChanges_TranslateToFileChangeTaps()
    {
        string path = Path.Combine(_directory.FullName, "watched.txt");
        File.WriteAllText(path, "before");
        using var watcher = new InotifyWatcher();
        int watch = watcher.Add(path, IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF);

        File.AppendAllText(path, " after");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        string moved = path + ".moved";
        File.Move(path, moved);
        File.Delete(moved);
        // IN_IGNORED is the kernel's last word on a watch whose file is gone.
        var records = watcher.ReadUntil(r => r.Any(x => x.Mask.HasFlag(IN_IGNORED)), Timeout);

        Assert.All(records, r => Assert.Equal((watch, ""), (r.Watch, r.Name)));
        TapFilters taps = records.Aggregate(TapFilters.None, (all, r) => all | InotifyTapMap.ToTarget(r.Mask));
        Assert.Equal(TapFilters.FDTAP_FILT_WRITTEN | TapFilters.FDTAP_FILT_ATTRIB | TapFilters.FDTAP_FILT_RENAME | TapFilters.FDTAP_FILT_DELETED, taps);
        Assert.Contains(records, r => r.Mask == IN_IGNORED);
    }
}
