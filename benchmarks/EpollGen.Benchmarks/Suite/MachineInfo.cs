using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace EpollGen.Benchmarks.Suite;

/// <summary>What a reader needs to weigh the numbers: the CPU, how many, the kernel, the runtime, the load.</summary>
internal sealed record MachineInfo(string Cpu, int Cpus, string Memory, string Kernel, string Os, string Runtime)
{
    public static MachineInfo Read()
    {
        string cpu = Lines("/proc/cpuinfo").Where(l => l.StartsWith("model name", StringComparison.Ordinal))
            .Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim()).FirstOrDefault() ?? "unknown";
        string memory = Lines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) is { } total
            && long.TryParse(total.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], NumberStyles.None, CultureInfo.InvariantCulture, out long kib)
            ? string.Create(CultureInfo.InvariantCulture, $"{kib / 1048576.0:0.0} GiB")
            : "unknown";
        string kernel = Lines("/proc/sys/kernel/osrelease").FirstOrDefault() ?? RuntimeInformation.OSDescription;
        string os = Lines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"') ?? "unknown";
        return new MachineInfo(cpu, Environment.ProcessorCount, memory, kernel, os, RuntimeInformation.FrameworkDescription);
    }

    /// <summary>The 1, 5 and 15 minute load averages: how busy the machine was around a run.</summary>
    public static string LoadAverage() =>
        Lines("/proc/loadavg").FirstOrDefault() is { } line ? string.Join(" ", line.Split(' ').Take(3)) : "unknown";

    private static string[] Lines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }
}
