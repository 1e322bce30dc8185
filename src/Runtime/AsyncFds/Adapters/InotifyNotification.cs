using System;
using System.Text;

namespace EpollGen;

/// <summary>
/// One inotify event, decoded from its <see cref="Interop.InotifyEvent"/> record: the watch, what
/// happened, the cookie that pairs the two halves of a rename, and the name, in the reader's
/// buffer (valid until the next read).
/// </summary>
public readonly struct InotifyNotification
{
    internal InotifyNotification(int watch, InotifyMask mask, uint cookie, ReadOnlyMemory<byte> name)
    {
        Watch = watch;
        Mask = mask;
        Cookie = cookie;
        NameUtf8 = name;
    }

    /// <summary>The watch descriptor <see cref="InotifyWatcher.AddWatch"/> returned; -1 for <see cref="InotifyMask.IN_Q_OVERFLOW"/>.</summary>
    public int Watch { get; }

    /// <summary>What happened, with <see cref="InotifyMask.IN_ISDIR"/> when it happened to a directory.</summary>
    public InotifyMask Mask { get; }

    /// <summary>Equal for the <see cref="InotifyMask.IN_MOVED_FROM"/> and <see cref="InotifyMask.IN_MOVED_TO"/> of one rename; 0 otherwise.</summary>
    public uint Cookie { get; }

    /// <summary>
    /// The name, relative to the watched directory, as the kernel's bytes without its NUL padding;
    /// empty for an event on the watched object itself. It points into the watcher's buffer: it is
    /// valid until the watcher's next read.
    /// </summary>
    public ReadOnlyMemory<byte> NameUtf8 { get; }

    /// <summary>Decodes <see cref="NameUtf8"/> into a new string (UTF-8); empty when there is no name.</summary>
    public string DecodeName() => NameUtf8.IsEmpty ? string.Empty : Encoding.UTF8.GetString(NameUtf8.Span);
}
