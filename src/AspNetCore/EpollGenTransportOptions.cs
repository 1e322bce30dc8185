namespace EpollGen.AspNetCore;

/// <summary>Settings of EpollGen's Kestrel transport, configured through <c>UseEpollGen(options => ...)</c>.</summary>
public sealed class EpollGenTransportOptions
{
    /// <summary>The listen(2) backlog: connections the kernel queues before the transport accepts them. Default 512.</summary>
    public int Backlog { get; set; } = 512;

    /// <summary>Whether accepted connections get TCP_NODELAY, so small responses are not held back by Nagle's algorithm. Default true.</summary>
    public bool NoDelay { get; set; } = true;

    /// <summary>
    /// Bytes received but not yet consumed by the application after which the transport stops
    /// reading a connection until it catches up; null for no limit. Default 1 MiB.
    /// </summary>
    public long? MaxReadBufferSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Bytes written by the application but not yet sent after which its flushes wait for the
    /// socket; null for no limit. Default 64 KiB.
    /// </summary>
    public long? MaxWriteBufferSize { get; set; } = 64 * 1024;
}
