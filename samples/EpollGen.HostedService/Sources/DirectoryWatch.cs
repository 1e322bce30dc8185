using System;
using System.Runtime.InteropServices;
using System.Text;
using EpollGen.HostedService.Native;
using Microsoft.Extensions.Logging;

namespace EpollGen.HostedService.Sources;

/// <summary>
/// An inotify fd watching one directory for names created and deleted in it; its records are
/// walked with the generated <see cref="InotifyEvent"/>.
/// </summary>
internal sealed unsafe class DirectoryWatch : IEventSource, IDisposable
{
    private const uint IN_CREATE = 0x100;
    private const uint IN_DELETE = 0x200;
    private const uint IN_Q_OVERFLOW = 0x4000;
    private const uint IN_IGNORED = 0x8000;

    // Room for many records; one is at most the header plus NAME_MAX + 1 bytes of name.
    private const int BufferSize = 4096;

    private readonly ILogger _logger;
    private readonly string _directory;
    // 8-aligned like the kernel's own buffer, so each header's fields are aligned; freed in Dispose.
    private byte* _buffer;

    private DirectoryWatch(FdHandle handle, string directory, ILogger logger)
    {
        Handle = handle;
        _directory = directory;
        _logger = logger;
        _buffer = (byte*)NativeMemory.AlignedAlloc(BufferSize, 8);
    }

    public FdHandle Handle { get; }

    /// <summary>Watches <paramref name="directory"/> for IN_CREATE and IN_DELETE.</summary>
    /// <exception cref="System.ComponentModel.Win32Exception">inotify refused (ENOENT: no such directory).</exception>
    public static DirectoryWatch Open(string directory, ILogger logger)
    {
        var watch = new DirectoryWatch(FdHandle.FromResult(Sys.inotify_init1(Sys.IN_NONBLOCK | Sys.IN_CLOEXEC), "inotify_init1"), directory, logger);
        if (Sys.inotify_add_watch(watch.Handle.Fd, directory, IN_CREATE | IN_DELETE) < 0)
        {
            var error = Errors.Of($"inotify_add_watch({directory})");
            watch.Dispose();
            throw error;
        }
        return watch;
    }

    public void Drain()
    {
        int length;
        while ((length = NonBlocking.Read(Handle, _buffer, BufferSize, "read(inotify)")) > 0)
            Walk(length);
    }

    public void Dispose()
    {
        Handle.Dispose();
        NativeMemory.AlignedFree(_buffer);
        _buffer = null;
    }

    // A read returns whole records only: a header, then len bytes of name.
    private void Walk(int length)
    {
        int offset = 0;
        while (offset < length)
        {
            byte* record = _buffer + offset;
            InotifyEvent header = InotifyEvent.ReadNative(record);
            if ((header.mask & IN_CREATE) != 0)
                Log.Created(_logger, NameOf(record, header.len));
            else if ((header.mask & IN_DELETE) != 0)
                Log.Deleted(_logger, NameOf(record, header.len));
            else if ((header.mask & IN_Q_OVERFLOW) != 0)
                Log.WatchOverflowed(_logger, _directory);
            else if ((header.mask & IN_IGNORED) != 0)
                Log.WatchEnded(_logger, _directory);
            offset += InotifyEvent.NativeSize + (int)header.len;
        }
    }

    // len counts the NUL padding after the name.
    private static string NameOf(byte* record, uint length)
    {
        var bytes = new ReadOnlySpan<byte>(InotifyEvent.name(record), checked((int)length));
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
