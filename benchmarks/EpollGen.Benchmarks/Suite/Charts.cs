using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace EpollGen.Benchmarks.Suite;

/// <summary>A line on a chart: a y summary (median and range over rounds) at each x.</summary>
internal sealed record ChartSeries(string Name, double[] X, Summary[] Y);

/// <summary>
/// The suite's PNG charts (ScottPlot). Every implementation keeps one colour on every chart; lines
/// mark the median over rounds and whiskers the min–max range, so noise is visible rather than hidden.
/// </summary>
internal static class Charts
{
    private const int Width = 1000, Height = 560;

    private static readonly Dictionary<string, Color> Colours = new()
    {
        [Implementations.RawEpoll] = Color.FromHex("#1f77b4"),
        [Implementations.EpollTaps] = Color.FromHex("#ff7f0e"),
        [Implementations.IoUringTaps] = Color.FromHex("#2ca02c"),
        [Implementations.IoUringTrusted] = Color.FromHex("#17becf"),
        [Implementations.IoUringSingleThread] = Color.FromHex("#bcbd22"),
        [Implementations.RawIoUring] = Color.FromHex("#e377c2"),
        [Implementations.DotNetSocket] = Color.FromHex("#d62728"),
        [Implementations.RawEpollC] = Color.FromHex("#7f7f7f"),
        [Implementations.Libevent] = Color.FromHex("#9467bd"),
        [Implementations.Libev] = Color.FromHex("#8c564b"),
    };

    /// <summary>Lines against a log-scaled x whose ticks are the measured x values themselves.</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, string? note = null)
    {
        Plot plot = NewPlot(title, xLabel, yLabel);
        double[] ticks = series.SelectMany(s => s.X).Distinct().Order().ToArray();
        for (int i = 0; i < series.Count; i++)
        {
            ChartSeries s = series[i];
            // Each series sits a hair left or right of the tick, so overlapping whiskers stay apart.
            double dodge = (i - (series.Count - 1) / 2.0) * 0.012;
            double[] xs = s.X.Select(x => Math.Log10(x) + dodge).ToArray();
            double[] ys = s.Y.Select(y => y.Median).ToArray();
            Color colour = ColourOf(s.Name);
            var line = plot.Add.Scatter(xs, ys, colour);
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
            var range = plot.Add.ErrorBar(xs, ys, new double[xs.Length]);
            range.YErrorNegative = s.Y.Select(y => y.Median - y.Min).ToArray();
            range.YErrorPositive = s.Y.Select(y => y.Max - y.Median).ToArray();
            range.Color = colour;
        }
        plot.Axes.Bottom.TickGenerator = new NumericManual(ticks.Select(Math.Log10).ToArray(), ticks.Select(t => t.ToString("N0", CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.Left.TickGenerator = new NumericAutomatic { LabelFormatter = y => y.ToString("N0", CultureInfo.InvariantCulture) };
        plot.Axes.Margins(horizontal: 0.08, vertical: 0.1);
        plot.Axes.SetLimitsY(0, series.SelectMany(s => s.Y).Max(y => y.Max) * 1.1);
        Finish(plot, path, note);
    }

    /// <summary>One bar per implementation (median) with its min–max whisker.</summary>
    public static void Bars(string path, string title, string yLabel, IReadOnlyList<(string Name, Summary Value)> bars, string? note = null)
    {
        Plot plot = NewPlot(title, note ?? "", yLabel);
        var items = bars.Select((b, i) => new Bar { Position = i, Value = b.Value.Median, FillColor = ColourOf(b.Name), Label = b.Value.Median.ToString("N0", CultureInfo.InvariantCulture) }).ToArray();
        var barPlot = plot.Add.Bars(items);
        barPlot.ValueLabelStyle.FontSize = 13;
        double[] xs = bars.Select((_, i) => (double)i).ToArray();
        var range = plot.Add.ErrorBar(xs, bars.Select(b => b.Value.Median).ToArray(), new double[xs.Length]);
        range.YErrorNegative = bars.Select(b => b.Value.Median - b.Value.Min).ToArray();
        range.YErrorPositive = bars.Select(b => b.Value.Max - b.Value.Median).ToArray();
        range.Color = Colors.Black;
        plot.Axes.Bottom.TickGenerator = new NumericManual(xs, bars.Select(b => b.Name).ToArray());
        plot.Axes.Left.TickGenerator = new NumericAutomatic { LabelFormatter = y => y.ToString("N0", CultureInfo.InvariantCulture) };
        plot.Axes.SetLimitsY(0, bars.Max(b => b.Value.Max) * 1.15);
        plot.HideGrid();
        Finish(plot, path, note: null, legend: false);
    }

    /// <summary>
    /// Latency percentiles, one line per series: x is the percentile on a "nines" scale
    /// (p50, p90, p99, p99.9), y the latency in µs on a log scale. A series takes its colour from
    /// the implementation named by <c>Colour</c>, so placements of one implementation share it.
    /// </summary>
    public static void Percentiles(string path, string title, IReadOnlyList<double> quantiles, IReadOnlyList<(string Name, string Colour, LinePattern Pattern, double[] Microseconds)> series, string? note = null)
    {
        Plot plot = NewPlot(title, "percentile of round trips", "µs per round trip (log scale)");
        double[] xs = quantiles.Select(q => -Math.Log10(1 - q)).ToArray();
        foreach ((string name, string colourOf, LinePattern pattern, double[] microseconds) in series)
        {
            var line = plot.Add.Scatter(xs, microseconds.Select(Math.Log10).ToArray(), ColourOf(colourOf));
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 6;
            line.LinePattern = pattern;
        }
        plot.Axes.Bottom.TickGenerator = new NumericManual(xs, quantiles.Select(q => "p" + (q * 100).ToString("0.###", CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.Left.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("N0", CultureInfo.InvariantCulture),
        };
        plot.Axes.Margins(horizontal: 0.05, vertical: 0.1);
        Finish(plot, path, note, noteAt: Alignment.UpperLeft);
    }

    private static Color ColourOf(string name) => Colours.TryGetValue(name, out Color colour) ? colour : Colors.Black;

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        plot.Title(title, size: 16);
        if (xLabel.Length > 0)
            plot.XLabel(xLabel, size: 14);
        plot.YLabel(yLabel, size: 14);
        return plot;
    }

    private static void Finish(Plot plot, string path, string? note, bool legend = true, Alignment noteAt = Alignment.LowerLeft)
    {
        if (legend)
            plot.ShowLegend(Edge.Right);
        if (note is not null)
        {
            var text = plot.Add.Annotation(note, noteAt);
            text.LabelFontSize = 11;
            text.LabelBackgroundColor = Colors.White.WithAlpha(0.8);
        }
        plot.SavePng(path, Width, Height);
    }
}
