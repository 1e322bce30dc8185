using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace EpollGen.Echo.Report;

/// <summary>Prints rows as a markdown table, then the medians and the EpollGen ÷ .NET ratios.</summary>
public static class Table
{
    private static readonly string[] Headers =
        ["round", "server", "conns", "size", "requests/s", "p50 µs", "p99 µs", "p999 µs", "errors", "tap backend", "CEQ posts", "coalesced", "overflows"];

    public static void Print(TextWriter output, IReadOnlyList<Row> rows, string epollName, string baselineName)
    {
        List<string[]> cells = rows.Select(Cells).ToList();
        List<Row> medians = [Median(rows, epollName), Median(rows, baselineName)];
        bool severalRounds = rows.Select(r => r.Round).Distinct().Count() > 1;
        if (severalRounds)
            cells.AddRange(medians.Select(Cells));
        int[] widths = Headers.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        string Line(IEnumerable<string> values) => "| " + string.Join(" | ", values.Select((v, i) => i is 1 or 9 ? v.PadRight(widths[i]) : v.PadLeft(widths[i]))) + " |";
        output.WriteLine(Line(Headers));
        output.WriteLine("|" + string.Join("|", widths.Select((w, i) => i is 1 or 9 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (string[] row in cells)
            output.WriteLine(Line(row));

        Row epoll = medians[0], baseline = medians[1];
        double rpsRatio = epoll.RequestsPerSecond / baseline.RequestsPerSecond;
        double p99Ratio = epoll.P99 / baseline.P99;
        output.WriteLine();
        string which = severalRounds ? "medians over " + rows.Max(r => r.Round).ToString(CultureInfo.InvariantCulture) + " rounds" : "one round";
        output.WriteLine($"{epollName} ÷ {baselineName} ({which}): requests/s {Format(rpsRatio, "0.00")}× (target ≥ 1.20: {Verdict(rpsRatio >= 1.2)}), " +
            $"p99 {Format(p99Ratio, "0.00")}× (lower is better; target ≤ 1.00: {Verdict(p99Ratio <= 1.0)})");
    }

    private static string Verdict(bool met) => met ? "met" : "not met";

    // Rounds are medians per column, each on its own: the row is a summary, not one real round.
    private static Row Median(IReadOnlyList<Row> rows, string server)
    {
        List<Row> mine = rows.Where(r => r.Server == server).ToList();
        CeqSnapshot? ceq = mine.All(r => r.Ceq is null)
            ? null
            : new CeqSnapshot((long)MedianOf(mine.Select(r => (double)r.Ceq!.Value.Posts)),
                (long)MedianOf(mine.Select(r => (double)r.Ceq!.Value.CoalescedPosts)),
                (long)MedianOf(mine.Select(r => (double)r.Ceq!.Value.Overflows)), 0);
        return new Row(0, server, mine[0].Connections, mine[0].Size,
            MedianOf(mine.Select(r => r.RequestsPerSecond)), MedianOf(mine.Select(r => r.P50)),
            MedianOf(mine.Select(r => r.P99)), MedianOf(mine.Select(r => r.P999)),
            mine.Sum(r => r.Errors), mine[0].Backend, ceq);
    }

    private static double MedianOf(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static string[] Cells(Row r) =>
    [
        r.Round == 0 ? "median" : r.Round.ToString(CultureInfo.InvariantCulture),
        r.Server,
        r.Connections.ToString(CultureInfo.InvariantCulture),
        r.Size.ToString(CultureInfo.InvariantCulture),
        Format(r.RequestsPerSecond, "N0"),
        Format(r.P50, "0.0"),
        Format(r.P99, "0.0"),
        Format(r.P999, "0.0"),
        r.Errors.ToString(CultureInfo.InvariantCulture),
        r.Backend,
        r.Ceq is { } c ? Format(c.Posts, "N0") : "-",
        r.Ceq is { } d ? Format(d.CoalescedPosts, "N0") : "-",
        r.Ceq is { } e ? Format(e.Overflows, "N0") : "-",
    ];

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
