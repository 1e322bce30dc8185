using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using EpollGen.HostedService.Sources;
using EpollGen.Interop;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EpollGen.HostedService;

/// <summary>
/// Runs one EpollSet loop over the service's three fds until the host stops it, then closes them.
/// </summary>
internal sealed class EventLoopService(IOptions<LoopOptions> options, IHostApplicationLifetime lifetime, ILogger<EventLoopService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
            Log.Stopped(logger);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Exit non-zero: a service that cannot watch what it was told to is a failed start.
            Log.Failed(logger, e);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        LoopOptions settings = options.Value;
        string directory = Path.GetFullPath(settings.WatchDirectory);
        using TickTimer timer = TickTimer.Start(settings.TickInterval, logger);
        using DirectoryWatch watch = DirectoryWatch.Open(directory, logger);
        using ReloadSignal reload = ReloadSignal.Open(logger);
        IEventSource[] sources = [timer, watch, reload];
        // Declared last so it goes first: the set holds a reference on each handle it watches, and
        // its disposal gives them back before the handles themselves close their fds.
        using var set = new EpollSet();
        for (int i = 0; i < sources.Length; i++)
            set.Add(sources[i].Handle, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, (ulong)i);
        Log.Started(logger, Environment.ProcessId, directory, settings.TickInterval, set.TapBackend);

        var events = new EpollEvent[sources.Length];
        try
        {
            while (true)
            {
                // The stopping token ends the wait itself, so the host's stop needs no wake-up fd.
                int ready = await set.WaitAsync(events, Timeout.InfiniteTimeSpan, stoppingToken).ConfigureAwait(false);
                for (int i = 0; i < ready; i++)
                    sources[(int)events[i].data].Drain();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping: leave, and let the usings close the fds.
        }
    }
}
