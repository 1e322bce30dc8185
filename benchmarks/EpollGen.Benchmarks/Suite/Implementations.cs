namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// The names rows and chart series go by, one per way of running a workload, so every table and
/// chart of the suite spells them alike and every chart gives each the same colour.
/// </summary>
internal static class Implementations
{
    public const string RawEpoll = "raw epoll (C#)";
    public const string EpollTaps = "EpollGen, epoll taps";
    public const string IoUringTaps = "EpollGen, io_uring taps";
    public const string IoUringTrusted = "EpollGen, io_uring taps, trusted";
    public const string IoUringSingleThread = "EpollGen, io_uring taps, single waiting thread";
    public const string RawIoUring = "raw io_uring (C#)";
    public const string DotNetSocket = ".NET Socket async";
    public const string RawEpollC = "raw epoll (C)";
    public const string Libevent = "libevent (C)";
    public const string Libev = "libev (C)";
}
