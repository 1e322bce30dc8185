using EpollGen.HostedService.Native;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace EpollGen.HostedService;

/// <summary>
/// A Generic Host service whose one BackgroundService runs an EpollGen event loop: a timer tick, the
/// names created and deleted in a watched directory, and SIGHUP as "reload requested". SIGTERM and
/// Ctrl+C stop it through the host's lifetime; it exits 0.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Before anything else: this may execute the program again, with SIGHUP blocked from the start.
        StartupSignals.BlockFromProcessStart(Sys.SIGHUP);

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.ColorBehavior = LoggerColorBehavior.Disabled;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Services.Configure<LoopOptions>(builder.Configuration.GetSection(LoopOptions.Section));
        builder.Services.AddHostedService<EventLoopService>();

        using IHost host = builder.Build();
        host.Run();
        // 0 unless the loop failed (EventLoopService sets 1).
        return System.Environment.ExitCode;
    }
}
