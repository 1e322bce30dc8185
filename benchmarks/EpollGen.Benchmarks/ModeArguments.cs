using System;
using System.Linq;

namespace EpollGen.Benchmarks;

/// <summary>
/// The argument check of the modes with their own loops (<c>pingpong</c>, <c>epoll</c>): every
/// argument is a known option followed by its value. <c>--help</c> prints the usage; anything else
/// prints it too and fails, before any timing, so a mistyped option never runs the full default set.
/// </summary>
internal static class ModeArguments
{
    /// <summary>
    /// Null when <paramref name="args"/> are well formed; otherwise the exit code to return (0 after
    /// <c>--help</c>, 2 after an error), the usage having been printed.
    /// </summary>
    public static int? Check(string[] args, string usage, params string[] options)
    {
        for (int i = 0; i < args.Length; i += 2)
        {
            if (args[i] is "--help" or "-h")
            {
                Console.WriteLine(usage);
                return 0;
            }
            string? problem = !options.Contains(args[i]) ? $"unknown argument '{args[i]}'"
                : i + 1 >= args.Length ? $"{args[i]} needs a value"
                : null;
            if (problem is not null)
            {
                Console.Error.WriteLine(problem);
                Console.Error.WriteLine(usage);
                return 2;
            }
        }
        return null;
    }
}
