using System;
using EpollGen.AspNetCore;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Puts Kestrel on EpollGen's transport.</summary>
public static class EpollGenWebHostBuilderExtensions
{
    /// <summary>
    /// Serves Kestrel's TCP endpoints (IPv4 and IPv6) through EpollGen's <see cref="EpollGen.AsyncFd"/>
    /// transport instead of the socket transport; other endpoints (Unix domain sockets, named pipes)
    /// stay on the transports Kestrel had.
    /// </summary>
    /// <param name="builder">The web host builder, such as <c>WebApplicationBuilder.WebHost</c>.</param>
    /// <param name="configure">Changes to the transport's settings, if any.</param>
    public static IWebHostBuilder UseEpollGen(this IWebHostBuilder builder, Action<EpollGenTransportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.ConfigureServices(services =>
        {
            // Added, not tried: Kestrel asks its listener factories from the last registered to the
            // first, so this one is asked before the socket transport UseKestrel registered.
            services.AddSingleton<IConnectionListenerFactory, EpollGenTransportFactory>();
            if (configure is not null)
                services.Configure(configure);
        });
    }
}
