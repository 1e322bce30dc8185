using System;
using System.Collections.Generic;
using System.IO;
using EpollGen.Testing;

namespace EpollGen.Preload.Tests.Infrastructure;

/// <summary>
/// One C program compiled into a temporary folder, run with or without the preloaded library.
/// The flags are the ones every transcript program is written for.
/// </summary>
internal sealed class CProgram : IDisposable
{
    private static readonly string[] Flags = ["-std=gnu11", "-O1", "-Wall", "-Werror", "-pthread"];

    // The programs set alarm(20) themselves; this only catches one that blocks SIGALRM and hangs.
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    private readonly DirectoryInfo _directory;
    private readonly string _binary;

    public CProgram(string source, params string[] libraries)
    {
        _directory = Directory.CreateTempSubdirectory("epollgen-preload-program-");
        _binary = Path.Combine(_directory.FullName, Path.GetFileNameWithoutExtension(source));
        Gcc.Compile(source, _binary, Flags, libraries);
    }

    /// <summary>Runs the program on the kernel's epoll: LD_PRELOAD is removed, not inherited.</summary>
    public ChildProcessResult RunPlain() => Run(null);

    /// <summary>Runs the program with <paramref name="sharedObject"/> as LD_PRELOAD.</summary>
    public ChildProcessResult RunPreloaded(string sharedObject) => Run(sharedObject);

    /// <summary>Runs the program with <paramref name="sharedObject"/> as LD_PRELOAD and <paramref name="environment"/> set too.</summary>
    public ChildProcessResult RunPreloaded(string sharedObject, IReadOnlyDictionary<string, string?> environment) => Run(sharedObject, environment);

    public void Dispose() => _directory.Delete(recursive: true);

    private ChildProcessResult Run(string? preload, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var variables = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>()) { ["LD_PRELOAD"] = preload };
        return ChildProcess.Run(_binary, [], RunTimeout, variables, _directory.FullName);
    }
}
