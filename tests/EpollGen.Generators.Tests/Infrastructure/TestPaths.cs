using System.Reflection;

namespace EpollGen.Generators.Tests.Infrastructure;

/// <summary>Folders the tests read, recorded at build time (robust to path maps and deterministic builds).</summary>
internal static class TestPaths
{
    public static string ProjectDir { get; } = Metadata("ProjectDir");

    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
