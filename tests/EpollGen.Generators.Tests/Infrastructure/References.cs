using Microsoft.CodeAnalysis;

namespace EpollGen.Generators.Tests.Infrastructure;

/// <summary>
/// Metadata references for test compilations: the .NET reference pack of the SDK that runs the
/// tests (no download, same on every machine with the SDK), plus EpollGen's runtime for the spec
/// attributes when a test compiles consumer code.
/// </summary>
internal static class References
{
    public static IReadOnlyList<MetadataReference> Framework { get; } = LoadFramework();

    public static MetadataReference EpollGenRuntime { get; } =
        MetadataReference.CreateFromFile(typeof(EpollGen.FlagMapAttribute).Assembly.Location);

    private static IReadOnlyList<MetadataReference> LoadFramework()
    {
        // .../shared/Microsoft.NETCore.App/<version>/System.Private.CoreLib.dll → .../packs/Microsoft.NETCore.App.Ref/<version>/ref/net10.0
        string runtimeDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        string dotnetRoot = Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", ".."));
        string packs = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
        string? refDir = Directory.Exists(packs)
            ? Directory.GetDirectories(packs)
                .Select(v => Path.Combine(v, "ref", "net" + Environment.Version.Major + ".0"))
                .Where(Directory.Exists)
                .OrderByDescending(d => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(d))), out Version? v) ? v : new Version())
                .FirstOrDefault()
            : null;
        if (refDir is null)
            throw new InvalidOperationException($"No Microsoft.NETCore.App.Ref pack under {packs}: run the tests with the .NET SDK.");
        return Directory.GetFiles(refDir, "*.dll").Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
    }
}
