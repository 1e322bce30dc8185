using System;

namespace EpollGen.Interop;

/// <summary>The <c>POLL*</c> bits of <c>&lt;poll.h&gt;</c> (a <c>short</c> in <c>struct pollfd</c>), with Linux's values.</summary>
[Flags]
public enum PollEvents : ushort
{
    /// <summary>No events.</summary>
    None = 0,

    /// <summary>Readable.</summary>
    POLLIN = 0x001,

    /// <summary>Priority data.</summary>
    POLLPRI = 0x002,

    /// <summary>Writable.</summary>
    POLLOUT = 0x004,

    /// <summary>Error.</summary>
    POLLERR = 0x008,

    /// <summary>Hang-up.</summary>
    POLLHUP = 0x010,

    /// <summary>The fd is not open (poll(2) only).</summary>
    POLLNVAL = 0x020,

    /// <summary>Normal data readable.</summary>
    POLLRDNORM = 0x040,

    /// <summary>Priority band data readable.</summary>
    POLLRDBAND = 0x080,

    /// <summary>Normal data writable.</summary>
    POLLWRNORM = 0x100,

    /// <summary>Priority band data writable.</summary>
    POLLWRBAND = 0x200,

    /// <summary>Unused by Linux.</summary>
    POLLMSG = 0x400,

    /// <summary>The peer shut down writing.</summary>
    POLLRDHUP = 0x2000,
}
