using System;
using System.Globalization;
using EpollGen.Taps;

namespace EpollGen.Echo;

/// <summary>The command line, parsed. Every option has a default, so no arguments is a full run.</summary>
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
    public bool Help { get; init; }

    public const string Usage = """
        usage: EpollGen.Echo [options]
          --connections N     client connections (default 256)
          --seconds S         measured seconds per server and round (default 3)
          --warmup S          unmeasured seconds before each measurement (default 1)
          --size B            message bytes (default 64)
          --rounds N          EpollGen/.NET pairs, alternating which goes first; medians reported (default 3)
          --backend K         epoll | io_uring: the tap backend asked of EpollSet
          --loops N           EpollGen event-loop threads (default: one per CPU)
          --client-threads N  load-generator threads (default: half the CPUs, at least 1)
          --idle-timeout S    close connections silent this long (default: never)
          --output-limit B    unsent bytes one connection may hold before reading pauses (default 65536)
          --server-only       only serve EpollGen echo on 127.0.0.1 until Ctrl+C (for wrk, netcat, ...)
          --port N            the port (default: ephemeral; 7007 with --server-only)
        """;

    /// <summary>Parses <paramref name="args"/>; throws <see cref="FormatException"/> with a readable message.</summary>
    public static EchoOptions Parse(string[] args)
    {
        var options = new EchoOptions();
        bool portGiven = false;
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value");
            options = name switch
            {
                "--connections" => options with { Connections = Positive(name, Value()) },
                "--seconds" => options with { Seconds = ParseSeconds(name, Value(), allowZero: false) },
                "--warmup" => options with { WarmupSeconds = ParseSeconds(name, Value(), allowZero: true) },
                "--size" => options with { Size = Positive(name, Value()) },
                "--rounds" => options with { Rounds = Positive(name, Value()) },
                "--loops" => options with { Loops = Positive(name, Value()) },
                "--client-threads" => options with { ClientThreads = Positive(name, Value()) },
                "--idle-timeout" => options with { IdleTimeoutSeconds = ParseSeconds(name, Value(), allowZero: false) },
                "--output-limit" => options with { OutputLimit = Positive(name, Value()) },
                "--backend" => options with { Backend = ParseBackend(Value()) },
                "--server-only" => options with { ServerOnly = true },
                "--port" => options with { Port = ParsePort(Value()) },
                "--help" or "-h" => options with { Help = true },
                _ => throw new FormatException($"unknown option {name}"),
            };
            portGiven |= name == "--port";
        }
        return options.ServerOnly && !portGiven ? options with { Port = 7007 } : options;
    }

    private static int Positive(string name, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
            ? value
            : throw new FormatException($"{name} wants a positive integer, not '{text}'");

    private static double ParseSeconds(string name, string text, bool allowZero) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && (value > 0 || (allowZero && value == 0))
            ? value
            : throw new FormatException($"{name} wants a number of seconds, not '{text}'");

    private static int ParsePort(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value <= 65535
            ? value
            : throw new FormatException($"--port wants 0..65535, not '{text}'");

    private static TapBackendKind ParseBackend(string text) => text switch
    {
        "epoll" => TapBackendKind.Epoll,
        "io_uring" => TapBackendKind.IoUring,
        _ => throw new FormatException($"--backend wants epoll or io_uring, not '{text}'"),
    };
}
