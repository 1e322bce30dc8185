using System.CommandLine;
using System.IO;
using EpollGen.Taps;
using Xunit;

namespace EpollGen.Echo.Tests;

/// <summary>The sample's command line: both spellings of a value, the defaults, help, and refusals that run nothing.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("--connections=5")]
    [InlineData("--connections", "5")]
    public void A_value_follows_its_option_after_a_space_or_an_equals_sign(params string[] args) =>
        Assert.Equal(5, Read(args).Connections);

    [Fact]
    public void No_arguments_give_the_defaults() => Assert.Equal(new EchoOptions(), Read());

    [Fact]
    public void Every_option_reaches_its_field()
    {
        EchoOptions options = Read("--seconds=1.5", "--warmup", "0", "--size", "300", "--rounds=1", "--backend=io_uring",
            "--loops", "3", "--client-threads", "4", "--idle-timeout", "0.25", "--output-limit", "4096", "--port", "9000");
        Assert.Equal(new EchoOptions
        {
            Seconds = 1.5, WarmupSeconds = 0, Size = 300, Rounds = 1, Backend = TapBackendKind.IoUring,
            Loops = 3, ClientThreads = 4, IdleTimeoutSeconds = 0.25, OutputLimit = 4096, Port = 9000,
        }, options);
    }

    [Fact]
    public void Server_only_serves_on_7007_unless_a_port_is_given()
    {
        Assert.Equal(7007, Read("--server-only").Port);
        Assert.Equal(0, Read("--server-only", "--port=0").Port);
        Assert.Equal(0, Read().Port);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--connections=5", "--bogus", "1")]
    [InlineData("--connections", "0")]
    [InlineData("--size", "x")]
    [InlineData("--seconds", "0")]
    [InlineData("--port", "65536")]
    [InlineData("--backend", "kqueue")]
    [InlineData("--connections")]
    public void A_bad_command_line_fails_with_exit_code_2_and_runs_nothing(params string[] args)
    {
        (int exit, bool ran, _, string error) = Invoke(args);
        Assert.Equal(EchoCommand.UsageError, exit);
        Assert.False(ran);
        Assert.NotEqual("", error.Trim());
    }

    [Fact]
    public void An_unknown_option_is_named_in_the_error()
    {
        (_, _, _, string error) = Invoke("--bogus");
        Assert.Contains("--bogus", error, System.StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_value_says_what_the_option_wants()
    {
        (_, _, _, string error) = Invoke("--connections=0");
        Assert.Contains("--connections wants a positive integer, not '0'", error, System.StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Help_lists_every_option_and_runs_nothing(string help)
    {
        (int exit, bool ran, string output, _) = Invoke(help);
        Assert.Equal(0, exit);
        Assert.False(ran);
        foreach (string option in new[] { "--connections", "--seconds", "--warmup", "--size", "--rounds", "--backend", "--loops",
            "--client-threads", "--idle-timeout", "--output-limit", "--server-only", "--port" })
            Assert.Contains(option, output, System.StringComparison.Ordinal);
        Assert.Contains("[default: 256]", output, System.StringComparison.Ordinal);
    }

    [Fact]
    public void A_good_command_line_returns_the_runs_exit_code()
    {
        EchoOptions? seen = null;
        int exit = new EchoCommand().Invoke(["--size=7"], o =>
        {
            seen = o;
            return 1;
        });
        Assert.Equal(1, exit);
        Assert.Equal(7, seen?.Size);
    }

    private static EchoOptions Read(params string[] args)
    {
        var command = new EchoCommand();
        ParseResult result = command.Parse(args);
        Assert.Empty(result.Errors);
        return command.Read(result);
    }

    private static (int Exit, bool Ran, string Output, string Error) Invoke(params string[] args)
    {
        bool ran = false;
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = new EchoCommand().Invoke(args, _ =>
        {
            ran = true;
            return 0;
        }, new InvocationConfiguration { Output = output, Error = error });
        return (exit, ran, output.ToString(), error.ToString());
    }
}
