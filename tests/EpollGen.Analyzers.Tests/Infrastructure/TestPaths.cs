using System.Reflection;

namespace EpollGen.Analyzers.Tests.Infrastructure;

/// <summary>Build facts stamped into the test assembly (not [CallerFilePath], which a PathMap rewrites).</summary>
internal static class TestPaths
{
    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    public static string Configuration { get; } = Metadata("Configuration");

    /// <summary>Whether this run, the runtime with it, was built with the environment variable CI=true.</summary>
    public static bool BuiltWithCi { get; } = string.Equals(Metadata("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether this run, the runtime with it, was a <c>ContinuousIntegrationBuild</c>.</summary>
    public static bool ContinuousIntegrationBuild { get; } = string.Equals(Metadata("ContinuousIntegrationBuild"), "true", StringComparison.OrdinalIgnoreCase);

    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"No {key} metadata in the test assembly.");
}
