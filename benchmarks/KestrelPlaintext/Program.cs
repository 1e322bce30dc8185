using System;
using System.Linq;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// GET /plaintext → "Hello, World!" as text/plain, TechEmpower's plaintext test without pipelining.
// Usage: KestrelPlaintext [sockets|epollgen] [port]. Port 0 (the default) picks a free one; the
// bound address is printed as "listening on http://127.0.0.1:PORT" once Kestrel serves it.
string transport = args.Length > 0 ? args[0] : "sockets";
int port = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
if (transport is not ("sockets" or "epollgen"))
{
    Console.Error.WriteLine($"unknown transport '{transport}': sockets or epollgen");
    return 2;
}

WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddConsole();
builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
{
    o.AddServerHeader = false;
    o.Listen(IPAddress.Loopback, port);
});
if (transport == "epollgen")
    builder.WebHost.UseEpollGen();

WebApplication app = builder.Build();
byte[] body = Encoding.ASCII.GetBytes("Hello, World!");
app.Run(context =>
{
    if (context.Request.Path != "/plaintext")
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return System.Threading.Tasks.Task.CompletedTask;
    }
    context.Response.ContentType = "text/plain";
    context.Response.ContentLength = body.Length;
    return context.Response.Body.WriteAsync(body, 0, body.Length);
});

await app.StartAsync();
string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
Console.WriteLine($"listening on {address} ({transport})");
await app.WaitForShutdownAsync();
return 0;
