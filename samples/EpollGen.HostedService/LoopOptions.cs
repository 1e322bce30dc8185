using System;

namespace EpollGen.HostedService;

/// <summary>
/// The loop's settings, bound from the <c>Loop</c> section of configuration: appsettings.json,
/// <c>Loop__WatchDirectory</c> in the environment, or <c>--Loop:WatchDirectory=/srv/in</c>.
/// </summary>
internal sealed class LoopOptions
{
    public const string Section = "Loop";

    /// <summary>The directory whose created and deleted names are logged; the working directory by default.</summary>
    public string WatchDirectory { get; set; } = ".";

    /// <summary>How often the timer ticks.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);
}
