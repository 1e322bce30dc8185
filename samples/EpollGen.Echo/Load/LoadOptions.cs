using System;

namespace EpollGen.Echo.Load;

/// <summary>What the load generator does: how many connections, what size, how long.</summary>
public sealed record LoadOptions
{
    public int Port { get; init; }

    public int Connections { get; init; } = 256;

    /// <summary>Bytes per request; the answer is the same bytes.</summary>
    public int MessageSize { get; init; } = 64;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Traffic before measuring starts: JIT, tiering, pools and TCP windows settle.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Client threads; connections are dealt out round-robin.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount / 2);
}

/// <summary>One progress report: phase, seconds into it, requests since measuring began, recent rate.</summary>
public readonly record struct LoadProgress(bool WarmingUp, double Seconds, long Requests, double RequestsPerSecond);

/// <summary>What a run measured.</summary>
public sealed record LoadResult(long Requests, double Seconds, LatencyHistogram Latency, long Errors)
{
    public double RequestsPerSecond => Seconds > 0 ? Requests / Seconds : 0;
}
