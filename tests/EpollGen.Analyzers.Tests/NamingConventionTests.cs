using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using EpollGen.Analyzers.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// The repository's naming conventions: the rules in its .editorconfig fail a build that breaks
/// them, and the one convention a naming rule cannot express (s_ for a mutable private static
/// field, t_ for a [ThreadStatic] one) is checked here in the compiled assemblies.
/// </summary>
public sealed class NamingConventionTests(ITestOutputHelper output)
{
    private static readonly Regex CamelCase = new("^[a-z][A-Za-z0-9]*$");

    /// <summary>
    /// A throwaway project outside the repository, with a copy of the repository's .editorconfig and
    /// code style enforced in the build as Directory.Build.props enforces it: IDE1006 must flag the
    /// misnamed members and only them.
    /// </summary>
    [Fact]
    public void RepositoryEditorConfig_FlagsMisnamedMembersInTheBuild()
    {
        string directory = Directory.CreateTempSubdirectory("epollgen-naming-").FullName;
        try
        {
            File.Copy(Path.Combine(TestPaths.RepositoryRoot, ".editorconfig"), Path.Combine(directory, ".editorconfig"));
            // Empty ones here end MSBuild's search upwards, so nothing from the temporary folder's parents comes in.
            foreach (string file in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
                File.WriteAllText(Path.Combine(directory, file), "<Project />\n");
            File.WriteAllText(Path.Combine(directory, "Probe.csproj"), """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <EnforceCodeStyleInBuild>true</EnforceCodeStyleInBuild>
                    <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
                    <NoWarn>CS0169;CS0414;IDE0051;IDE0052</NoWarn>
                  </PropertyGroup>
                </Project>
                """);
            // One member per line, so a diagnostic's line says which member it is about.
            string[] lines =
            [
                "namespace Probe;",
                "public sealed class Holder<TItem>",
                "{",
                "    private int count;",                        // 4: no _
                "    private readonly int Size = 1;",            // 5: PascalCase field
                "    private const int maxItems = 8;",           // 6: camelCase constant
                "    private int _fine;",
                "    private const int MaxFine = 8;",
                "    private static int s_shared;",
                "    [System.ThreadStatic] private static int t_perThread;",
                "    private static readonly int Bound = 5;",
                "    public int Use() => count + Size + maxItems + _fine + MaxFine + s_shared + t_perThread + Bound;",
                "}",
                "public interface Shape { }",                   // 14: no I
                "",
            ];
            File.WriteAllText(Path.Combine(directory, "Probe.cs"), string.Join('\n', lines));

            string result = DotnetCli.Run(directory, Path.Combine(directory, "packages"), output.WriteLine, null, "build", "-nologo");

            int[] flagged = Regex.Matches(result, @"Probe\.cs\((\d+),\d+\): warning IDE1006")
                .Select(m => int.Parse(m.Groups[1].Value)).Distinct().Order().ToArray();
            Assert.Equal([4, 5, 6, 14], flagged);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Mutable private static fields: t_camelCase when [ThreadStatic], s_camelCase otherwise.</summary>
    [Fact]
    public void PrivateStaticFields_AreStaticOrThreadStaticPrefixed()
    {
        Assembly[] assemblies =
        [
            typeof(EpollSet).Assembly,
            typeof(EpollGen.Analyzers.Specs.SpecAnalyzer).Assembly,
            typeof(EpollGen.Analyzers.CodeFixes.MakePartialCodeFix).Assembly,
        ];
        var misnamed = new List<string>();
        foreach (Type type in assemblies.SelectMany(a => a.GetTypes()))
        {
            if (type.IsDefined(typeof(CompilerGeneratedAttribute)) || type.Name.Contains('<'))
                continue;
            foreach (FieldInfo field in type.GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                // static readonly is PascalCase or s_camelCase by what it holds; see .editorconfig.
                if (!field.IsPrivate || field.IsLiteral || field.IsInitOnly || field.Name.Contains('<'))
                    continue;
                string prefix = field.IsDefined(typeof(ThreadStaticAttribute)) ? "t_" : "s_";
                if (!field.Name.StartsWith(prefix, StringComparison.Ordinal) || !CamelCase.IsMatch(field.Name[prefix.Length..]))
                    misnamed.Add($"{type.FullName}.{field.Name} (expected {prefix}camelCase)");
            }
        }
        Assert.Empty(misnamed);
    }
}
