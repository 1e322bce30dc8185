using System.CommandLine;
using System.IO;

namespace EpollGen.Benchmarks.Suite;

/// <summary>The <c>suite</c> mode's command line, read into <see cref="SuiteOptions"/>.</summary>
internal sealed class SuiteCommand : Command
{
    private readonly Option<bool> _quick = new("--quick")
    {
        Description = "Smoke-test settings (a few minutes); the report says it was a quick run",
    };

    private readonly Option<string?> _out = new("--out")
    {
        Description = "Where benchmarks-suite.md and charts/ go (default: the repository's docs/)",
        HelpName = "dir",
    };

    private readonly ListOption<string> _only = ModeCommand.Names("--only", "Run these sections only (the report then holds only them)",
        SuiteOptions.Sections, SuiteOptions.Sections);

    public SuiteCommand()
        : base("suite", "Every epoll comparison at once, written as benchmarks-suite.md with charts.")
    {
        Options.Add(_quick);
        Options.Add(_out);
        Options.Add(_only);
        // Checked while parsing, so a run outside the repository fails before any timing.
        Validators.Add(r =>
        {
            if (r.GetValue(_out) is null && SuiteOptions.DefaultOutput() is null)
                r.AddError("cannot find the repository (EpollGen.sln) from here; pass --out DIR");
        });
    }

    /// <summary>The settings of a command line that parsed without errors.</summary>
    public SuiteOptions Read(ParseResult result) => SuiteOptions.Create(
        result.GetValue(_quick),
        result.GetValue(_out) is { } output ? Path.GetFullPath(output) : SuiteOptions.DefaultOutput()!,
        _only.Get(result));
}
