using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace EpollGen.Preload.Tests.Infrastructure;

/// <summary>Where the tests find the repository and the C sources copied beside the test assembly.</summary>
internal static class TestPaths
{
    /// <summary>The repository root, stamped at build time (robust to path maps and deterministic builds).</summary>
    public static string RepositoryRoot { get; } =
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value
        ?? throw new InvalidOperationException("No RepositoryRoot metadata in the test assembly.");

    /// <summary>The transcript programs, one area per .c file, with their shared header.</summary>
    public static string Programs { get; } = Path.Combine(AppContext.BaseDirectory, "programs");

    /// <summary>The program that tells which library each replaced function came from.</summary>
    public static string Probe { get; } = Path.Combine(AppContext.BaseDirectory, "probe", "which_library.c");

    /// <summary>Programs that check where the preload differs from Linux on purpose (docs/preload.md).</summary>
    public static string Subsets { get; } = Path.Combine(AppContext.BaseDirectory, "subsets");
}
