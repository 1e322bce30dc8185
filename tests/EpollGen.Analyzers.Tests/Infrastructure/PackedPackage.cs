using System.IO.Compression;
using System.Text;
using System.Xml.Linq;

namespace EpollGen.Analyzers.Tests.Infrastructure;

/// <summary>
/// The runtime packed once for all of <see cref="PackageTests"/>: <c>dotnet pack</c> of what the test
/// run already built into a temporary feed (packing must not rebuild under other test assemblies).
/// </summary>
public sealed class PackedPackage : IDisposable
{
    private readonly StringBuilder _log = new();

    public PackedPackage()
    {
        Feed = Path.Combine(Root, "feed");
        string project = Path.Combine(TestPaths.RepositoryRoot, "src", "Runtime", "EpollGen.Runtime.csproj");
        Run(TestPaths.RepositoryRoot, null, "pack", project, "-c", TestPaths.Configuration, "--no-build", "--no-restore", "-o", Feed);
        string[] packages = Directory.GetFiles(Feed, "EpollGen.*.nupkg");
        if (packages.Length != 1)
            throw new InvalidOperationException($"expected one EpollGen package in {Feed}, found {packages.Length}:\n{Log}");
        NupkgPath = packages[0];
        Version = Path.GetFileNameWithoutExtension(NupkgPath).Substring("EpollGen.".Length);
        using ZipArchive zip = ZipFile.OpenRead(NupkgPath);
        ZipArchiveEntry nuspec = zip.Entries.Single(e => e.FullName == "EpollGen.nuspec");
        using Stream stream = nuspec.Open();
        Nuspec = XDocument.Load(stream);
    }

    /// <summary>A temporary folder of the fixture's own; deleted with it.</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "epollgen-package-" + Guid.NewGuid().ToString("N"));

    /// <summary>The folder <c>dotnet pack</c> wrote to: a package feed.</summary>
    public string Feed { get; }

    /// <summary>The .nupkg file.</summary>
    public string NupkgPath { get; }

    public string Version { get; }

    /// <summary>The package's manifest as packed.</summary>
    public XDocument Nuspec { get; }

    /// <summary>Every dotnet command the fixture and its tests ran, with its output.</summary>
    public string Log => _log.ToString();

    /// <summary>A nuspec metadata element (namespace ignored), or null when the nuspec has none.</summary>
    public XElement? Metadata(string name) =>
        Nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata").Elements().FirstOrDefault(e => e.Name.LocalName == name);

    /// <summary>The bytes of a file in the .nupkg.</summary>
    public byte[] ReadBytes(string entryName)
    {
        using ZipArchive zip = ZipFile.OpenRead(NupkgPath);
        ZipArchiveEntry entry = zip.GetEntry(entryName) ?? throw new FileNotFoundException($"no {entryName} in {NupkgPath}");
        using Stream stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The text of a file in the .nupkg.</summary>
    public string ReadEntry(string entryName) => Encoding.UTF8.GetString(ReadBytes(entryName));

    /// <summary>Runs dotnet with the fixture's package folder; the output goes to <see cref="Log"/>.</summary>
    public string Run(string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] arguments) =>
        DotnetCli.Run(workingDirectory, Path.Combine(Root, "packages"), text => { lock (_log) _log.AppendLine(text); }, environment, arguments);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a green test for.
        }
    }
}
