using System.Runtime.CompilerServices;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;
using Microsoft.CodeAnalysis;
using Xunit;

namespace EpollGen.Generators.Tests.Infrastructure;

/// <summary>
/// Golden files for generated sources, named as Verify.SourceGenerators names them
/// (<c>Class.Method#Hint.verified.cs</c> in Snapshots/), so a switch to Verify is mechanical.
/// A missing or different snapshot fails and leaves a <c>.received.cs</c> beside it.
/// <c>EPOLLGEN_ACCEPT=1</c> rewrites the snapshots, and is refused when <c>CI=true</c>.
/// </summary>
internal static class Snapshot
{
    private static readonly string Directory = Path.Combine(TestPaths.ProjectDir, "Snapshots");

    public static void Match(GeneratorDriverRunResult result, string testClass, [CallerMemberName] string testName = "")
    {
        bool accept = Environment.GetEnvironmentVariable("EPOLLGEN_ACCEPT") == "1";
        if (accept && Environment.GetEnvironmentVariable("CI") == "true")
            Assert.Fail("EPOLLGEN_ACCEPT=1 is refused when CI=true: snapshots are accepted by a person, not by CI.");

        string prefix = $"{testClass}.{testName}#";
        var failures = new List<string>();
        var expectedFiles = new HashSet<string>(StringComparer.Ordinal);
        foreach (GeneratedSourceResult source in GeneratorHarness.Sources(result))
        {
            string stem = Path.Combine(Directory, prefix + Path.GetFileNameWithoutExtension(source.HintName));
            string verified = stem + ".verified.cs", received = stem + ".received.cs";
            expectedFiles.Add(Path.GetFileName(verified));
            string actual = Normalize(source.SourceText.ToString());
            if (accept)
            {
                System.IO.Directory.CreateDirectory(Directory);
                File.WriteAllText(verified, actual);
                File.Delete(received);
                continue;
            }
            if (!File.Exists(verified))
            {
                File.WriteAllText(received, actual);
                failures.Add($"missing snapshot {verified}; review {received} and accept with EPOLLGEN_ACCEPT=1");
                continue;
            }
            string expected = Normalize(File.ReadAllText(verified));
            if (expected == actual)
            {
                File.Delete(received);
                continue;
            }
            File.WriteAllText(received, actual);
            failures.Add($"{Path.GetFileName(verified)} differs:\n{Diff(expected, actual)}");
        }

        // A snapshot with no generated file behind it means the generator stopped emitting something.
        foreach (string stale in System.IO.Directory.GetFiles(Directory, prefix + "*.verified.cs").Select(p => Path.GetFileName(p)).Where(f => !expectedFiles.Contains(f)))
        {
            if (accept)
                File.Delete(Path.Combine(Directory, stale));
            else
                failures.Add($"snapshot {stale} has no generated file any more");
        }
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    // Line endings and the BOM are the file system's business; the generator version is scrubbed.
    private static string Normalize(string text) => text
        .Replace("\r\n", "\n")
        .TrimStart('\uFEFF')
        .Replace($"\"EpollGen.Generators\", \"{Common.GeneratedCode.Version}\"", "\"EpollGen.Generators\", \"VERSION\"");

    private static string Diff(string expected, string actual)
    {
        DiffPaneModel diff = InlineDiffBuilder.Diff(expected, actual);
        var text = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < diff.Lines.Count && shown < 60; i++)
        {
            DiffPiece line = diff.Lines[i];
            bool near = diff.Lines.Skip(Math.Max(0, i - 2)).Take(5).Any(l => l.Type != ChangeType.Unchanged);
            if (!near)
                continue;
            string mark = line.Type switch { ChangeType.Inserted => "+", ChangeType.Deleted => "-", _ => " " };
            text.Append(mark).Append(' ').Append(line.Text).Append('\n');
            shown++;
        }
        return text.ToString();
    }
}
