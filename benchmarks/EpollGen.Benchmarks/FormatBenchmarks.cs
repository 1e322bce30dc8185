using System;
using BenchmarkDotNet.Attributes;
using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary>
/// Formatting <see cref="RealisticMasks.Count"/> epoll masks per invocation: the runtime's
/// <c>Enum.ToString()</c> against the generated C-spelling <c>Format</c> and <c>TryFormat</c>.
/// Each returns the total length written so nothing is dropped.
/// </summary>
[MemoryDiagnoser]
public class FormatBenchmarks
{
    private EpollEvents[] _masks = [];

    [GlobalSetup]
    public void Setup() => _masks = RealisticMasks.Epoll();

    [Benchmark(Baseline = true, Description = "Enum.ToString()")]
    public int EnumToString()
    {
        int length = 0;
        foreach (EpollEvents m in _masks)
            length += m.ToString().Length;
        return length;
    }

    [Benchmark(Description = "generated Format (string)")]
    public int GeneratedFormat()
    {
        int length = 0;
        foreach (EpollEvents m in _masks)
            length += EpollTapMap.Format(m).Length;
        return length;
    }

    [Benchmark(Description = "generated TryFormat (stack buffer)")]
    public int GeneratedTryFormat()
    {
        // 170 chars holds every EpollEvents member plus a hex remainder (the generated Format's size).
        Span<char> buffer = stackalloc char[170];
        int length = 0;
        foreach (EpollEvents m in _masks)
        {
            if (!EpollTapMap.TryFormat(m, buffer, out int written))
                throw new InvalidOperationException("170 chars did not hold " + m);
            length += written;
        }
        return length;
    }
}
