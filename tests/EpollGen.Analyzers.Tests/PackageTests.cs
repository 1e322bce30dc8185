using System.Diagnostics;
using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using EpollGen.Analyzers.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// The package as a consumer gets it: the runtime packed into a temporary feed (<see cref="PackedPackage"/>),
/// its manifest and files as nuget.org would show them, and a throwaway project restoring <c>EpollGen</c>
/// from that feed into a package folder of its own, built for real. The generator must have run (the
/// project uses generated members and runs them), the analyzers must report in the build output, and
/// .editorconfig must reach them.
/// </summary>
public sealed class PackageTests : IClassFixture<PackedPackage>
{
    /// <summary>
    /// Usage rules checked in the same consumer build: a source file to add and the id its build must
    /// report as a warning. A level-triggered Add is the rule every consumer meets first, and it needs
    /// the packed analyzer to read the packed runtime's [EpollArgument] and [EpollFlag] attributes. It
    /// is a suggestion by default, which a command-line build does not print; the consumer's
    /// .editorconfig raises it to a warning.
    /// </summary>
    public static readonly IReadOnlyList<ConsumerCheck> UsageRuleChecks =
    [
        new("Usage.cs", """
            using EpollGen;
            using EpollGen.Interop;

            public static class Usage
            {
                public static void Register(EpollSet set, int fd) => set.Add(fd, EpollEvents.EPOLLIN, 0);
            }
            """, "EPG0100"),
    ];

    private readonly PackedPackage _package;
    private readonly ITestOutputHelper _output;

    public PackageTests(PackedPackage package, ITestOutputHelper output)
    {
        _package = package;
        _output = output;
    }

    /// <summary>One consumer file and the diagnostic id its build must show.</summary>
    public sealed record ConsumerCheck(string FileName, string Source, string ExpectedId);

    [Fact]
    public void Package_IsMitLicensed()
    {
        XElement? license = _package.Metadata("license");
        Assert.NotNull(license);
        Assert.Equal("expression", license.Attribute("type")?.Value);
        Assert.Equal("MIT", license.Value);

        string text = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "LICENSE"));
        Assert.StartsWith("MIT License", text);
        Assert.Contains("Copyright (c) 2026 EpollGen contributors", text);
    }

    [Fact]
    public void Package_HasAReadmeForNuGetReaders()
    {
        Assert.Equal("PACKAGE.md", _package.Metadata("readme")?.Value);
        string readme = _package.ReadEntry("PACKAGE.md");
        Assert.StartsWith("# EpollGen", readme);
        Assert.Contains("dotnet add package EpollGen", readme);
        Assert.Contains("```csharp", readme);
        // nuget.org resolves no relative link, so every link must be absolute.
        foreach (Match link in Regex.Matches(readme, @"\]\(([^)]*)\)"))
            Assert.True(Uri.IsWellFormedUriString(link.Groups[1].Value, UriKind.Absolute), $"relative link {link.Value}");
    }

    [Fact]
    public void Package_DescribesItselfAndLinksItsRepository()
    {
        Assert.True(_package.Metadata("description")?.Value is { Length: >= 100 }, "the description says what the package is");
        string[] tags = (_package.Metadata("tags")?.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("epoll", tags);
        Assert.Contains("linux", tags);
        Assert.True(Uri.IsWellFormedUriString(_package.Metadata("projectUrl")?.Value, UriKind.Absolute), "projectUrl");
        Assert.True(Uri.IsWellFormedUriString(_package.Metadata("repository")?.Attribute("url")?.Value, UriKind.Absolute), "repository url");
    }

    [Fact]
    public void Package_HasASymbolsPackageWithTheRuntimePdb()
    {
        string symbols = Path.ChangeExtension(_package.NupkgPath, ".snupkg");
        Assert.True(File.Exists(symbols), $"no {symbols}");
        using ZipArchive zip = ZipFile.OpenRead(symbols);
        Assert.Contains("lib/net10.0/EpollGen.pdb", zip.Entries.Select(e => e.FullName));
    }

    /// <summary>
    /// A CI build maps source paths to <c>/_/</c>, so the packed dll names no build machine's folder;
    /// a local build keeps the real path, which the debugger uses. <c>.ci/run</c> builds with CI=true,
    /// which must make a CI build.
    /// </summary>
    [Fact]
    public void PackedRuntime_NamesItsPdbByAMappedPathInCiBuilds()
    {
        using var pe = new PEReader(new MemoryStream(_package.ReadBytes("lib/net10.0/EpollGen.dll")));
        DebugDirectoryEntry codeView = Assert.Single(pe.ReadDebugDirectory(), e => e.Type == DebugDirectoryEntryType.CodeView);
        string pdbPath = pe.ReadCodeViewDebugDirectoryData(codeView).Path;
        if (TestPaths.BuiltWithCi || TestPaths.ContinuousIntegrationBuild)
        {
            Assert.StartsWith("/_/", pdbPath);
            Assert.DoesNotContain(TestPaths.RepositoryRoot, pdbPath);
        }
        else
        {
            Assert.StartsWith(TestPaths.RepositoryRoot, pdbPath);
        }
    }

    /// <summary>CI=true (as <c>.ci/run</c> sets), GitHub Actions' and Azure Pipelines' own variables make a CI build; nothing else does.</summary>
    [Theory]
    [InlineData("CI", "true", true)]
    [InlineData("GITHUB_ACTIONS", "true", true)]
    [InlineData("TF_BUILD", "True", true)]
    [InlineData("CI", "false", false)]
    [InlineData(null, null, false)]
    public void ContinuousIntegrationBuild_FollowsTheCiEnvironment(string? variable, string? value, bool expected)
    {
        var environment = new Dictionary<string, string?> { ["CI"] = null, ["GITHUB_ACTIONS"] = null, ["TF_BUILD"] = null };
        if (variable is not null)
            environment[variable] = value;
        string project = Path.Combine(TestPaths.RepositoryRoot, "src", "Runtime", "EpollGen.Runtime.csproj");
        string json = _package.Run(TestPaths.RepositoryRoot, environment, "msbuild", project, "-getProperty:ContinuousIntegrationBuild", "-getProperty:Deterministic");
        JsonElement properties = JsonDocument.Parse(json).RootElement.GetProperty("Properties");
        Assert.Equal(expected, string.Equals(properties.GetProperty("ContinuousIntegrationBuild").GetString(), "true", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("true", properties.GetProperty("Deterministic").GetString());
    }

    [Fact]
    public void PackedPackage_GeneratesAndReportsInAConsumerBuild()
    {
        var clock = Stopwatch.StartNew();
        string consumer = Path.Combine(_package.Root, "consumer");
        AssertLayout(_package.NupkgPath);

        WriteConsumer(consumer, _package.Feed, _package.Version);
        string output = _package.Run(consumer, null, "build", "-c", "Debug", "-nologo", "-v:minimal", "--disable-build-servers");

        Assert.Contains("warning EPG0006", output);           // spec rule, from the packed analyzer
        Assert.Contains("warning EPG0200", output);           // interop rule
        Assert.DoesNotContain("EPG0015", output);             // silenced by the consumer's .editorconfig
        foreach (ConsumerCheck check in UsageRuleChecks)
            Assert.Contains("warning " + check.ExpectedId, output);
        // The runtime is Linux-only: the SDK's platform-compatibility analyzer flags an unguarded call
        // in a project that targets net10.0 without a platform, and a call under IsLinux() it does not.
        Assert.Matches(@"NoPlatformGuard\.cs\(\d+,\d+\): warning CA1416", output);
        Assert.DoesNotMatch(@"LinuxGuard\.cs\(\d+,\d+\): warning CA1416", output);

        // The generated members compiled, and they run with the packed runtime.
        string ran = _package.Run(consumer, null, "bin/Debug/net10.0/Consumer.dll");
        Assert.Contains("Wire.Size=7 Map=In EpollEvent.NativeSize=" + (System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 ? "12" : "16"), ran);
        _output.WriteLine(_package.Log);
        _output.WriteLine($"build + run: {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static void AssertLayout(string package)
    {
        using ZipArchive zip = ZipFile.OpenRead(package);
        string[] dlls = zip.Entries.Select(e => e.FullName).Where(n => n.EndsWith(".dll", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(
            [
                "analyzers/dotnet/cs/EpollGen.Analyzers.CodeFixes.dll",
                "analyzers/dotnet/cs/EpollGen.Analyzers.dll",
                "analyzers/dotnet/cs/EpollGen.Generators.dll",
                "lib/net10.0/EpollGen.dll",
            ],
            dlls);
    }

    private void WriteConsumer(string dir, string feed, string version)
    {
        Directory.CreateDirectory(dir);
        // Stop MSBuild's upward search for the repository's props, and NuGet's for its config.
        File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(dir, "Directory.Build.targets"), "<Project />\n");
        File.WriteAllText(Path.Combine(dir, "Directory.Packages.props"), "<Project />\n");
        // EpollGen only from the fresh feed; anything else from the usual source (nothing else is needed
        // today, so restore works offline).
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="fresh" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="fresh"><package pattern="EpollGen" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(dir, ".editorconfig"), """
            root = true

            [*.cs]
            dotnet_diagnostic.EPG0015.severity = none
            dotnet_diagnostic.EPG0100.severity = warning
            """);
        File.WriteAllText(Path.Combine(dir, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
                <Nullable>enable</Nullable>
                <ImplicitUsings>disable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="EpollGen" Version="[{version}]" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), """
            using System;
            using EpollGen;
            using EpollGen.Interop;

            [Flags] public enum Wanted : uint { Read = 1, Write = 2 }
            [Flags] public enum Ready : uint { In = 0x10, Out = 0x20 }

            [FlagMap(typeof(Wanted), typeof(Ready))]
            [FlagPair(Wanted.Read, Ready.In)]
            [FlagPair(Wanted.Write, Ready.Out)]
            public static partial class Map;

            [NativeStruct("wire", Packing = NativePacking.Packed, Size = 7)]
            [NativeField("kind", "uint8_t")]
            [NativeField("len", "uint16_t")]
            [NativeField("seq", "uint32_t")]
            public partial struct Wire;

            public static class Program
            {
                public static void Main() =>
                    Console.WriteLine($"Wire.Size={Wire.Size} Map={Map.Format(Map.ToTarget(Wanted.Read))} EpollEvent.NativeSize={EpollEvent.NativeSize}");
            }
            """);
        File.WriteAllText(Path.Combine(dir, "Bad.cs"), """
            using System.Runtime.InteropServices;
            using EpollGen;

            [FlagMap(typeof(Wanted), typeof(Ready))]
            [FlagPair(Wanted.Read, Ready.In)]
            [FlagPair(Wanted.Read, Ready.Out)]
            public static partial class Overlapping;

            [NativeStruct("empty")]
            public partial struct Empty;

            public struct MyEpollEvent { public uint events; public ulong data; }

            public static unsafe class Native
            {
                [DllImport("libc", SetLastError = true)]
                public static extern int epoll_wait(int epfd, MyEpollEvent* events, int maxevents, int timeout);
            }
            """);
        foreach (ConsumerCheck check in UsageRuleChecks)
            File.WriteAllText(Path.Combine(dir, check.FileName), check.Source);
        File.WriteAllText(Path.Combine(dir, "NoPlatformGuard.cs"), """
            using EpollGen;

            public static class NoPlatformGuard
            {
                public static EpollSet Open() => new EpollSet();
            }
            """);
        File.WriteAllText(Path.Combine(dir, "LinuxGuard.cs"), """
            using System;
            using EpollGen;

            public static class LinuxGuard
            {
                public static EpollSet? Open() => OperatingSystem.IsLinux() ? new EpollSet() : null;
            }
            """);
    }
}
