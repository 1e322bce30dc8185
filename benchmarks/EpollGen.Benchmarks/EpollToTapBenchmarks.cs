using BenchmarkDotNet.Attributes;
using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary><c>EpollEvents</c> → <c>TapFilters</c> over <see cref="RealisticMasks.Count"/> masks per invocation.</summary>
[MemoryDiagnoser]
public class EpollToTapBenchmarks
{
    private EpollEvents[] _masks = [];

    [GlobalSetup]
    public void Setup()
    {
        // Each benchmark runs in its own process, so the guard runs again here.
        TranslationAgreement.Verify();
        _masks = RealisticMasks.Epoll();
    }

    [Benchmark(Baseline = true, Description = "if per flag (seed style)")]
    public uint If()
    {
        uint sum = 0;
        foreach (EpollEvents m in _masks)
            sum += (uint)HandWrittenIf.ToTarget(m);
        return sum;
    }

    [Benchmark(Description = "loop over pair table")]
    public uint Loop()
    {
        uint sum = 0;
        foreach (EpollEvents m in _masks)
            sum += (uint)HandWrittenLoop.ToTarget(m);
        return sum;
    }

    [Benchmark(Description = "2 x 256-entry byte tables")]
    public uint Table()
    {
        uint sum = 0;
        foreach (EpollEvents m in _masks)
            sum += (uint)HandWrittenTable.ToTarget(m);
        return sum;
    }

    [Benchmark(Description = "generated EpollTapMap.ToTarget")]
    public uint Generated()
    {
        uint sum = 0;
        foreach (EpollEvents m in _masks)
            sum += (uint)EpollTapMap.ToTarget(m);
        return sum;
    }
}
