using System;

namespace EpollGen.Interop;

/// <summary>
/// FD tap filters: the conditions a tap reports as edges. Values up to <see cref="FDTAP_FILT_RDHUP"/>
/// are Akaros's (<c>ros/fdtap.h</c>); the four above it are EpollGen's, so every epoll readiness
/// bit has a tap.
/// </summary>
[Flags]
public enum TapFilters : uint
{
    /// <summary>No filter.</summary>
    None = 0,

    /// <summary>Data became readable.</summary>
    FDTAP_FILT_READABLE = 0x001,

    /// <summary>Space became writable.</summary>
    FDTAP_FILT_WRITABLE = 0x002,

    /// <summary>The file was written (file-change tap).</summary>
    FDTAP_FILT_WRITTEN = 0x004,

    /// <summary>The file was deleted (file-change tap).</summary>
    FDTAP_FILT_DELETED = 0x008,

    /// <summary>An error occurred.</summary>
    FDTAP_FILT_ERROR = 0x010,

    /// <summary>The file was renamed (file-change tap).</summary>
    FDTAP_FILT_RENAME = 0x020,

    /// <summary>The file was truncated (file-change tap).</summary>
    FDTAP_FILT_TRUNCATE = 0x040,

    /// <summary>The file's attributes changed (file-change tap).</summary>
    FDTAP_FILT_ATTRIB = 0x080,

    /// <summary>Priority data arrived.</summary>
    FDTAP_FILT_PRIORITY = 0x100,

    /// <summary>The other end hung up.</summary>
    FDTAP_FILT_HANGUP = 0x200,

    /// <summary>The peer shut down writing.</summary>
    FDTAP_FILT_RDHUP = 0x400,

    /// <summary>Normal data became readable (EpollGen).</summary>
    FDTAP_FILT_RDNORM = 0x800,

    /// <summary>Priority band data became readable (EpollGen).</summary>
    FDTAP_FILT_RDBAND = 0x1000,

    /// <summary>Normal data became writable (EpollGen).</summary>
    FDTAP_FILT_WRNORM = 0x2000,

    /// <summary>Priority band data became writable (EpollGen).</summary>
    FDTAP_FILT_WRBAND = 0x4000,
}
