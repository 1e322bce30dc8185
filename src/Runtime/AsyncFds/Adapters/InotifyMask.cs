using System;

namespace EpollGen;

/// <summary>The <c>IN_*</c> bits of &lt;sys/inotify.h&gt;, with Linux's values: what a watch asks for and what an event reports.</summary>
[Flags]
public enum InotifyMask : uint
{
    /// <summary>A file was read.</summary>
    IN_ACCESS = 0x0000_0001,

    /// <summary>A file was written.</summary>
    IN_MODIFY = 0x0000_0002,

    /// <summary>Metadata changed: permissions, timestamps, extended attributes, link count, owner.</summary>
    IN_ATTRIB = 0x0000_0004,

    /// <summary>A file opened for writing was closed.</summary>
    IN_CLOSE_WRITE = 0x0000_0008,

    /// <summary>A file not opened for writing was closed.</summary>
    IN_CLOSE_NOWRITE = 0x0000_0010,

    /// <summary>A file or directory was opened.</summary>
    IN_OPEN = 0x0000_0020,

    /// <summary>A name was moved out of the watched directory (paired with <see cref="IN_MOVED_TO"/> by the cookie).</summary>
    IN_MOVED_FROM = 0x0000_0040,

    /// <summary>A name was moved into the watched directory.</summary>
    IN_MOVED_TO = 0x0000_0080,

    /// <summary>A name was created in the watched directory.</summary>
    IN_CREATE = 0x0000_0100,

    /// <summary>A name was deleted from the watched directory.</summary>
    IN_DELETE = 0x0000_0200,

    /// <summary>The watched object itself was deleted.</summary>
    IN_DELETE_SELF = 0x0000_0400,

    /// <summary>The watched object itself was moved.</summary>
    IN_MOVE_SELF = 0x0000_0800,

    /// <summary>Reported: the filesystem of the watched object was unmounted (an <see cref="IN_IGNORED"/> follows).</summary>
    IN_UNMOUNT = 0x0000_2000,

    /// <summary>Reported, with watch -1: the event queue overflowed and events were lost.</summary>
    IN_Q_OVERFLOW = 0x0000_4000,

    /// <summary>Reported: the watch was removed, explicitly or because its object went away. Its descriptor may be reused.</summary>
    IN_IGNORED = 0x0000_8000,

    /// <summary>Add only: watch the path only if it is a directory.</summary>
    IN_ONLYDIR = 0x0100_0000,

    /// <summary>Add only: do not follow the path if it is a symbolic link.</summary>
    IN_DONT_FOLLOW = 0x0200_0000,

    /// <summary>Add only: no events for children once they are unlinked from the watched directory.</summary>
    IN_EXCL_UNLINK = 0x0400_0000,

    /// <summary>Add only: fail with EEXIST if the path is already watched.</summary>
    IN_MASK_CREATE = 0x1000_0000,

    /// <summary>Add only: add to the mask of an existing watch rather than replace it.</summary>
    IN_MASK_ADD = 0x2000_0000,

    /// <summary>Reported: the subject of the event is a directory.</summary>
    IN_ISDIR = 0x4000_0000,

    /// <summary>Add only: remove the watch after its first event.</summary>
    IN_ONESHOT = 0x8000_0000,

    /// <summary>Both closes.</summary>
    IN_CLOSE = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE,

    /// <summary>Both moves.</summary>
    IN_MOVE = IN_MOVED_FROM | IN_MOVED_TO,

    /// <summary>Every event a watch can ask for.</summary>
    IN_ALL_EVENTS = 0x0000_0FFF,
}
