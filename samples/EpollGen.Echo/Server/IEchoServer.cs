using System;

namespace EpollGen.Echo.Server;

/// <summary>An echo server the load generator and the tests can drive without knowing which.</summary>
public interface IEchoServer : IDisposable
{
    /// <summary>A short name for tables.</summary>
    string Name { get; }

    /// <summary>The loopback port it listens on.</summary>
    int Port { get; }

    /// <summary>Connections open right now.</summary>
    int ConnectionCount { get; }

    /// <summary>The tap backend in use, or a dash where there is none.</summary>
    string Backend { get; }
}
