using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using EpollGen.Taps;

namespace EpollGen.Echo;

/// <summary>
/// The sample's command line: its options, with <see cref="EchoOptions"/>' defaults, read into an
/// <see cref="EchoOptions"/>. System.CommandLine takes <c>--name value</c> and <c>--name=value</c>,
/// writes <c>--help</c>, and refuses unknown options before anything runs.
/// </summary>
public sealed class EchoCommand : RootCommand
{
    /// <summary>The exit code of a command line that does not parse (1 means the run saw echo errors).</summary>
    public const int UsageError = 2;

    private static readonly EchoOptions Defaults = new();

    private readonly Option<int> _connections = Positive("--connections", "Client connections", Defaults.Connections);
    private readonly Option<double> _seconds = Seconds("--seconds", "Measured seconds per server and round", Defaults.Seconds, allowZero: false);
    private readonly Option<double> _warmup = Seconds("--warmup", "Unmeasured seconds before each measurement", Defaults.WarmupSeconds, allowZero: true);
    private readonly Option<int> _size = Positive("--size", "Message bytes", Defaults.Size);
    private readonly Option<int> _rounds = Positive("--rounds", "EpollGen/.NET pairs, alternating which goes first; medians reported", Defaults.Rounds);
    private readonly Option<string?> _backend = new("--backend") { Description = "The tap backend asked of EpollSet (default: EPOLLGEN_TAP_BACKEND, else epoll)" };
    private readonly Option<int> _loops = Positive("--loops", "EpollGen event-loop threads (one per CPU)", Defaults.Loops);
    private readonly Option<int> _clientThreads = Positive("--client-threads", "Load-generator threads (half the CPUs, at least 1)", Defaults.ClientThreads);
    private readonly Option<double?> _idleTimeout = new("--idle-timeout")
    {
        Description = "Close connections silent this many seconds (default: never)",
        CustomParser = r => ParseSeconds(r, allowZero: false),
    };
    private readonly Option<int> _outputLimit = Positive("--output-limit", "Unsent bytes one connection may hold before reading pauses", Defaults.OutputLimit);
    private readonly Option<bool> _serverOnly = new("--server-only") { Description = "Only serve EpollGen echo on 127.0.0.1 until Ctrl+C (for wrk, netcat, ...)" };
    private readonly Option<int?> _port = new("--port")
    {
        Description = $"The port (default: ephemeral; {EchoOptions.ServerOnlyPort} with --server-only)",
        CustomParser = r => ParseInt(r, 0, 65535, "0..65535"),
    };

    public EchoCommand()
        : base("EpollGen echo server vs .NET Socket echo server, driven over loopback by one load generator.")
    {
        _backend.AcceptOnlyFromAmong("epoll", "io_uring");
        Options.Add(_connections);
        Options.Add(_seconds);
        Options.Add(_warmup);
        Options.Add(_size);
        Options.Add(_rounds);
        Options.Add(_backend);
        Options.Add(_loops);
        Options.Add(_clientThreads);
        Options.Add(_idleTimeout);
        Options.Add(_outputLimit);
        Options.Add(_serverOnly);
        Options.Add(_port);
    }

    /// <summary>The options of a command line that parsed without errors.</summary>
    public EchoOptions Read(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        bool serverOnly = result.GetValue(_serverOnly);
        return new EchoOptions
        {
            Connections = result.GetValue(_connections),
            Seconds = result.GetValue(_seconds),
            WarmupSeconds = result.GetValue(_warmup),
            Size = result.GetValue(_size),
            Rounds = result.GetValue(_rounds),
            Backend = result.GetValue(_backend) switch
            {
                "epoll" => TapBackendKind.Epoll,
                "io_uring" => TapBackendKind.IoUring,
                _ => null,
            },
            Loops = result.GetValue(_loops),
            ClientThreads = result.GetValue(_clientThreads),
            IdleTimeoutSeconds = result.GetValue(_idleTimeout),
            OutputLimit = result.GetValue(_outputLimit),
            ServerOnly = serverOnly,
            Port = result.GetValue(_port) ?? (serverOnly ? EchoOptions.ServerOnlyPort : 0),
        };
    }

    /// <summary>
    /// Runs <paramref name="run"/> on the options of <paramref name="args"/>, or prints help or the
    /// errors; returns the run's exit code, 0 after help, <see cref="UsageError"/> after errors.
    /// </summary>
    public int Invoke(string[] args, Func<EchoOptions, int> run, InvocationConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        SetAction(result => run(Read(result)));
        ParseResult parsed = Parse(args);
        int exit = parsed.Invoke(configuration);
        // System.CommandLine exits 1 on parse errors, which this program already uses for a run with errors.
        return parsed.Errors.Count > 0 ? UsageError : exit;
    }

    private static Option<int> Positive(string name, string description, int fallback) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = r => ParseInt(r, 1, int.MaxValue, "a positive integer") ?? 0,
    };

    private static Option<double> Seconds(string name, string description, double fallback, bool allowZero) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = r => ParseSeconds(r, allowZero) ?? 0,
    };

    // Digits only, as before: no sign, no spaces, no thousands separators.
    private static int? ParseInt(ArgumentResult r, int min, int max, string wanted)
    {
        string text = r.Tokens[0].Value;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
            return value;
        r.AddError($"{OptionName(r)} wants {wanted}, not '{text}'");
        return null;
    }

    // Invariant culture, as before: "1.5" means one and a half seconds whatever the machine's locale.
    private static double? ParseSeconds(ArgumentResult r, bool allowZero)
    {
        string text = r.Tokens[0].Value;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && (value > 0 || (allowZero && value == 0)))
            return value;
        r.AddError($"{OptionName(r)} wants a number of seconds, not '{text}'");
        return null;
    }

    private static string OptionName(ArgumentResult r) => ((OptionResult)r.Parent!).Option.Name;
}
