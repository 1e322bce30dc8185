using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace EpollGen.Benchmarks.Suite;

/// <summary>
/// The markdown the suite writes (benchmarks-suite.md) and where its charts go (charts/ beside
/// it). Each table is echoed to the console as it is added, so a run shows its results as it goes.
/// </summary>
internal sealed class SuiteReport
{
    private readonly StringBuilder _text = new();
    private readonly TextWriter _console;

    public SuiteReport(string outputDirectory, TextWriter console)
    {
        OutputDirectory = outputDirectory;
        ChartDirectory = Path.Combine(outputDirectory, "charts");
        Directory.CreateDirectory(ChartDirectory);
        _console = console;
    }

    public string OutputDirectory { get; }

    public string ChartDirectory { get; }

    public string FilePath => Path.Combine(OutputDirectory, "benchmarks-suite.md");

    public void Heading(string text, int level = 2)
    {
        _text.Append('\n').Append('#', level).Append(' ').Append(text).Append('\n');
        _console.WriteLine();
        _console.WriteLine(new string('#', level) + " " + text);
    }

    public void Paragraph(string text) => _text.Append('\n').Append(text).Append('\n');

    public void Bullets(IEnumerable<string> items)
    {
        _text.Append('\n');
        foreach (string item in items)
            _text.Append("- ").Append(item).Append('\n');
    }

    /// <summary>A table; columns whose header starts with a letter in <paramref name="leftAligned"/> are left-aligned, the rest right.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, int leftAligned = 1)
    {
        var lines = new List<string>
        {
            "| " + string.Join(" | ", headers) + " |",
            "|" + string.Join("|", headers.Select((_, i) => i < leftAligned ? "---" : "---:")) + "|",
        };
        lines.AddRange(rows.Select(r => "| " + string.Join(" | ", r) + " |"));
        _text.Append('\n');
        foreach (string line in lines)
        {
            _text.Append(line).Append('\n');
            _console.WriteLine(line);
        }
    }

    /// <summary>Links a chart (a file name in charts/) and returns the full path to write it to.</summary>
    public string Chart(string fileName, string description)
    {
        _text.Append('\n').Append("![").Append(description).Append("](charts/").Append(fileName).Append(")\n");
        return Path.Combine(ChartDirectory, fileName);
    }

    public void Save(string header)
    {
        File.WriteAllText(FilePath, header + _text.ToString().Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
