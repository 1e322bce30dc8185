using System;
using System.Collections.Generic;
using System.Text;
using DiffPlex.DiffBuilder;
using DiffPlex.DiffBuilder.Model;

namespace EpollGen.Preload.Tests.Infrastructure;

/// <summary>
/// A unified-style diff of two transcripts: hunks headed by the line number in the first,
/// "-" for lines only the first printed, "+" for lines only the second printed, three lines of context.
/// </summary>
internal static class TranscriptDiff
{
    private const int Context = 3;

    public static string Describe(string expected, string actual, string expectedName, string actualName)
    {
        // Whitespace is part of a transcript: "1 {0x1 ...}" and "1  {0x1 ...}" are different answers.
        List<DiffPiece> lines = InlineDiffBuilder.Diff(expected, actual, ignoreWhiteSpace: false).Lines;
        var text = new StringBuilder();
        text.Append("--- ").Append(expectedName).Append('\n');
        text.Append("+++ ").Append(actualName).Append('\n');
        int printedUpTo = -1;
        int expectedLine = 0;
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines[i].Type != ChangeType.Inserted)
                expectedLine++;
            if (!NearAChange(lines, i))
                continue;
            if (i != printedUpTo + 1)
                text.Append("@@ line ").Append(expectedLine).Append(" @@\n");
            text.Append(lines[i].Type switch
            {
                ChangeType.Deleted => '-',
                ChangeType.Inserted => '+',
                _ => ' ',
            }).Append(lines[i].Text).Append('\n');
            printedUpTo = i;
        }
        return text.ToString();
    }

    private static bool NearAChange(List<DiffPiece> lines, int index)
    {
        for (int i = Math.Max(0, index - Context); i <= Math.Min(lines.Count - 1, index + Context); i++)
        {
            if (lines[i].Type != ChangeType.Unchanged)
                return true;
        }
        return false;
    }
}
