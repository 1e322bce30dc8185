using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using Xunit;

namespace EpollGen.Testing;

/// <summary>
/// Compiles and runs small C programs with the machine's gcc. Layout tests ask the C compiler,
/// never the generator's own arithmetic, what <c>sizeof</c> and <c>offsetof</c> are.
/// </summary>
internal static class Gcc
{
    // Generous: a cold gcc on a loaded CI machine takes seconds, a hung one must not hang the run.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Evaluates each <c>size_t</c> expression (<c>sizeof(struct ceq)</c>, <c>offsetof(...)</c>) in a
    /// program that starts with <paramref name="prelude"/>, and returns the values in order.
    /// </summary>
    public static long[] Evaluate(string prelude, IReadOnlyList<string> expressions)
    {
        string compiler = Locate();
        DirectoryInfo directory = Directory.CreateTempSubdirectory("epollgen-gcc-");
        try
        {
            string source = Path.Combine(directory.FullName, "probe.c");
            string binary = Path.Combine(directory.FullName, "probe");
            File.WriteAllText(source, Program(prelude, expressions));
            Run(compiler, "-std=gnu11", "-Wall", "-Werror", "-o", binary, source);
            return Parse(Run(binary), expressions.Count);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The path of gcc; fails the calling test, with the fix, when there is none.</summary>
    public static string Locate()
    {
        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, "gcc");
            if (File.Exists(candidate))
                return candidate;
        }
        Assert.Fail("gcc was not found on PATH. The layout tests compare against the C compiler and cannot pass without it. " +
            "Install it with 'apt-get install -y gcc libc6-dev' (building the test project as root does this itself).");
        throw new UnreachableException();
    }

    // The program prints "index value" per line: indexes, not the expressions, so no C escaping is needed.
    private static string Program(string prelude, IReadOnlyList<string> expressions)
    {
        var text = new StringBuilder();
        text.Append("#include <stddef.h>\n#include <stdint.h>\n#include <stdbool.h>\n#include <stdio.h>\n");
        text.Append(prelude).Append("\n\nint main(void)\n{\n");
        for (int i = 0; i < expressions.Count; i++)
            text.Append(CultureInfo.InvariantCulture, $"    printf(\"%d %zu\\n\", {i}, (size_t)({expressions[i]}));\n");
        return text.Append("    return 0;\n}\n").ToString();
    }

    private static long[] Parse(string output, int count)
    {
        var values = new long[count];
        var seen = new bool[count];
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split(' ');
            int index = int.Parse(parts[0], CultureInfo.InvariantCulture);
            values[index] = long.Parse(parts[1], CultureInfo.InvariantCulture);
            seen[index] = true;
        }
        Assert.All(seen, Assert.True);
        return values;
    }

    /// <summary>
    /// Compiles one C file into <paramref name="binary"/> with the given flags (libraries after the
    /// source, as the linker wants them); a compile error fails the calling test with gcc's message.
    /// </summary>
    public static void Compile(string source, string binary, IEnumerable<string> flags, IEnumerable<string> libraries)
    {
        var arguments = new List<string>(flags) { "-o", binary, source };
        arguments.AddRange(libraries);
        Run(Locate(), arguments.ToArray());
    }

    private static string Run(string program, params string[] arguments)
    {
        ChildProcessResult result = ChildProcess.Run(program, arguments, Timeout);
        if (result.ExitCode != 0)
            Assert.Fail($"{program} {string.Join(' ', arguments)} exited with {result.ExitCode}:\n{result.Error}");
        return result.Output;
    }
}
