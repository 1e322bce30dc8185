using System;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Linq;

namespace EpollGen.Benchmarks;

/// <summary>
/// The command lines of the modes with their own loops (<c>pingpong</c>, <c>epoll</c>, <c>suite</c>):
/// System.CommandLine parses them (<c>--name value</c> or <c>--name=value</c>, generated
/// <c>--help</c>), and this class adds the option kinds they share and their exit codes.
/// </summary>
internal static class ModeCommand
{
    /// <summary>The exit code of a command line that does not parse, as every mode has always returned.</summary>
    public const int UsageError = 2;

    /// <summary>
    /// Runs <paramref name="run"/> on the parsed <paramref name="args"/>; help exits 0 and a bad command
    /// line exits <see cref="UsageError"/>, both before any timing, so a mistyped option never runs the
    /// full default set.
    /// </summary>
    public static int Invoke(Command command, string[] args, Func<ParseResult, int> run)
    {
        // Only a RootCommand comes with --help; a mode is parsed as a Command of its own.
        command.Options.Add(new HelpOption());
        command.SetAction(run);
        ParseResult parsed = command.Parse(args);
        int exit = parsed.Invoke();
        return parsed.Errors.Count > 0 ? UsageError : exit;
    }

    /// <summary>A positive integer, digits only.</summary>
    public static Option<int> Count(string name, string description, int fallback) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = r => int.TryParse(r.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0
            ? count
            : Refuse<int>(r, "a positive integer"),
    };

    /// <summary>Positive integers separated by commas (<c>100,1000,9900</c>).</summary>
    public static ListOption<int> Counts(string name, string description, int[] fallback) =>
        new(name, description, fallback, r => ParseCounts(r) ?? Refuse<int[]?>(r, "positive integers separated by commas"))
        {
            HelpName = "n,...",
        };

    /// <summary>Names from <paramref name="allowed"/> separated by commas (<c>lt,et</c>).</summary>
    public static ListOption<string> Names(string name, string description, string[] fallback, string[] allowed) =>
        new(name, $"{description}: {string.Join(",", allowed)}", fallback, r =>
        {
            string[] names = Split(r.Tokens[0].Value);
            if (names.FirstOrDefault(n => !allowed.Contains(n)) is { } unknown)
            {
                r.AddError($"{Name(r)}: no '{unknown}' (there are {string.Join(", ", allowed)})");
                return null;
            }
            return names.Length > 0 ? names : Refuse<string[]?>(r, $"one or more of {string.Join(", ", allowed)}");
        })
        {
            HelpName = "name,...",
        };

    private static int[]? ParseCounts(ArgumentResult r)
    {
        string[] parts = Split(r.Tokens[0].Value);
        var counts = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out counts[i]) || counts[i] <= 0)
                return null;
        }
        return counts.Length > 0 ? counts : null;
    }

    private static string[] Split(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static T Refuse<T>(ArgumentResult r, string wanted)
    {
        r.AddError($"{Name(r)} wants {wanted}, not '{r.Tokens[0].Value}'");
        return default!;
    }

    private static string Name(ArgumentResult r) => ((OptionResult)r.Parent!).Option.Name;
}
