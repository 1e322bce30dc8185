using System;
using EpollGen.Taps;

namespace EpollGen.Echo;

/// <summary>The command line, parsed (<see cref="EchoCommand"/>). Every option has a default, so no arguments is a full run.</summary>
public sealed record EchoOptions
{
    public int Connections { get; init; } = 256;
    public double Seconds { get; init; } = 3;
    public double WarmupSeconds { get; init; } = 1;
    public int Size { get; init; } = 64;
    public TapBackendKind? Backend { get; init; }
    public bool ServerOnly { get; init; }
    public int Port { get; init; }
    public int Rounds { get; init; } = 3;
    public int Loops { get; init; } = Environment.ProcessorCount;
    public int ClientThreads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);
    public double? IdleTimeoutSeconds { get; init; }
    public int OutputLimit { get; init; } = 64 * 1024;

    /// <summary>The port <c>--server-only</c> serves on when no <c>--port</c> is given.</summary>
    public const int ServerOnlyPort = 7007;
}
