using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using EpollGen.IntegrationTests.Native;
using EpollGen.Interop;
using Xunit;
using PollFd = EpollGen.IntegrationTests.Native.PollFd;

namespace EpollGen.IntegrationTests.Inotify;

/// <summary>
/// A non-blocking inotify instance whose records are walked with the generated
/// <see cref="InotifyEvent"/>: <c>ReadNative</c> for the header, the <c>name</c> flexible array for
/// the name, and <c>NativeSize + len</c> as the stride.
/// </summary>
internal sealed unsafe class InotifyWatcher : IDisposable
{
    // Room for many records; one record is at most sizeof(struct inotify_event) + NAME_MAX + 1.
    private const int BufferSize = 4096;

    private readonly int _fd;

    public InotifyWatcher()
    {
        _fd = LibC.inotify_init1(LibC.IN_NONBLOCK | LibC.IN_CLOEXEC);
        Assert.True(_fd >= 0, $"inotify_init1 failed with errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Watches <paramref name="path"/> for <paramref name="mask"/> and returns the watch descriptor.</summary>
    public int Add(string path, InotifyMask mask)
    {
        int watch = LibC.inotify_add_watch(_fd, path, (uint)mask);
        Assert.True(watch >= 0, $"inotify_add_watch({path}) failed with errno {Marshal.GetLastPInvokeError()}");
        return watch;
    }

    /// <summary>
    /// Reads records until <paramref name="done"/> holds for them or <paramref name="timeout"/>
    /// passes; the caller asserts on what arrived. Waits in poll(2), never by sleeping.
    /// </summary>
    public List<InotifyRecord> ReadUntil(Func<List<InotifyRecord>, bool> done, TimeSpan timeout)
    {
        var records = new List<InotifyRecord>();
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        // 8-aligned like the kernel's own buffer, so the int fields of the first record are aligned.
        byte* buffer = (byte*)NativeMemory.AlignedAlloc(BufferSize, 8);
        try
        {
            while (!done(records))
            {
                int remaining = (int)Math.Ceiling(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline).TotalMilliseconds);
                if (remaining <= 0 || !WaitReadable(remaining))
                    break;
                nint length = LibC.read(_fd, buffer, BufferSize);
                if (length < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    Assert.True(errno is LibC.EAGAIN or LibC.EINTR, $"read(inotify) failed with errno {errno}");
                    continue;
                }
                Walk(buffer, length, records);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
        return records;
    }

    public void Dispose() => LibC.close(_fd);

    // False when the timeout passed with nothing to read.
    private bool WaitReadable(int milliseconds)
    {
        var request = new PollFd { fd = _fd, events = (short)PollEvents.POLLIN };
        int ready = LibC.poll(&request, 1, milliseconds);
        if (ready < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Assert.True(errno == LibC.EINTR, $"poll(inotify) failed with errno {errno}");
            return true;
        }
        return ready > 0;
    }

    private static void Walk(byte* buffer, nint length, List<InotifyRecord> records)
    {
        nint offset = 0;
        while (offset < length)
        {
            byte* record = buffer + offset;
            InotifyEvent header = InotifyEvent.ReadNative(record);
            records.Add(new InotifyRecord(header.wd, (InotifyMask)header.mask, header.cookie, NameOf(record, header.len)));
            offset += InotifyEvent.NativeSize + (nint)header.len;
        }
        Assert.Equal(length, offset);
    }

    // len counts the NUL padding the kernel adds to keep the next record aligned; 0 means no name.
    private static string NameOf(byte* record, uint length)
    {
        var bytes = new ReadOnlySpan<byte>(InotifyEvent.name(record), checked((int)length));
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes.Slice(0, end));
    }
}
