using BenchmarkDotNet.Attributes;
using EpollGen.Interop;

namespace EpollGen.Benchmarks;

/// <summary><c>TapFilters</c> → <c>EpollEvents</c> over <see cref="RealisticMasks.Count"/> masks per invocation.</summary>
[MemoryDiagnoser]
public class TapToEpollBenchmarks
{
    private TapFilters[] _masks = [];

    [GlobalSetup]
    public void Setup()
    {
        // Each benchmark runs in its own process, so the guard runs again here.
        TranslationAgreement.Verify();
        _masks = RealisticMasks.Taps();
    }

    [Benchmark(Baseline = true, Description = "if per flag (seed style)")]
    public uint If()
    {
        uint sum = 0;
        foreach (TapFilters m in _masks)
            sum += (uint)HandWrittenIf.ToSource(m);
        return sum;
    }

    [Benchmark(Description = "loop over pair table")]
    public uint Loop()
    {
        uint sum = 0;
        foreach (TapFilters m in _masks)
            sum += (uint)HandWrittenLoop.ToSource(m);
        return sum;
    }

    [Benchmark(Description = "2 x 256-entry byte tables")]
    public uint Table()
    {
        uint sum = 0;
        foreach (TapFilters m in _masks)
            sum += (uint)HandWrittenTable.ToSource(m);
        return sum;
    }

    [Benchmark(Description = "generated EpollTapMap.ToSource")]
    public uint Generated()
    {
        uint sum = 0;
        foreach (TapFilters m in _masks)
            sum += (uint)EpollTapMap.ToSource(m);
        return sum;
    }
}
