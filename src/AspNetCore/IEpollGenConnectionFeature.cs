using System.Runtime.InteropServices;

namespace EpollGen.AspNetCore;

/// <summary>
/// A connection served by EpollGen's transport; found in <c>HttpContext.Features</c> and in a
/// connection's features, as Kestrel's socket transport offers its Socket.
/// </summary>
public interface IEpollGenConnectionFeature
{
    /// <summary>
    /// The connection's socket, for socket options (setsockopt) and inspection. The transport reads,
    /// writes and closes it: do none of those.
    /// </summary>
    SafeHandle Socket { get; }
}
