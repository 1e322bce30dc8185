using System;
using EpollGen.Taps;

namespace EpollGen.Echo.Server;

/// <summary>How an echo server listens and how much it lets one connection hold.</summary>
public sealed record EchoServerOptions
{
    /// <summary>The loopback port; 0 picks an ephemeral one (see the server's Port).</summary>
    public int Port { get; init; }

    /// <summary>Event-loop threads, each with its own EpollSet and its own SO_REUSEPORT listener.</summary>
    public int Loops { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Bytes one connection may hold that its client has not read yet. When full, the server stops
    /// reading that connection, so a slow reader costs at most this much, and TCP pushes back on it.
    /// </summary>
    public int OutputLimit { get; init; } = 64 * 1024;

    /// <summary>Connections silent for this long are closed; null keeps them forever.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>The tap backend asked for; null lets EpollSet choose.</summary>
    public TapBackendKind? Backend { get; init; }
}
