using System;
using System.Diagnostics;
using HdrHistogram;

namespace EpollGen.Echo.Load;

/// <summary>
/// Latencies in nanoseconds, to three significant digits (0.1%) up to about 18 minutes, in an
/// HdrHistogram. Its counts are allocated up front, so recording never allocates; one per client
/// thread, merged at the end, so recording never contends.
/// </summary>
public sealed class LatencyHistogram
{
    // 2^40 ns, the old histogram's range too. Not more: HdrHistogram 2.5.0 with three digits gave
    // percentiles below the recorded values from about 2^41 ns up (LatencyHistogramTests pins this).
    private const long Highest = 1L << 40;

    private readonly LongHistogram _histogram = new(Highest, 3);

    public long Count => _histogram.TotalCount;

    public void RecordTicks(long ticks) => Record((long)(ticks * (1_000_000_000.0 / Stopwatch.Frequency)));

    // HdrHistogram throws above its highest trackable value; a longer round trip counts as the highest.
    public void Record(long nanoseconds) => _histogram.RecordValue(Math.Clamp(nanoseconds, 0, Highest));

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _histogram.Add(other._histogram);
    }

    public void Clear() => _histogram.Reset();

    /// <summary>
    /// The value at quantile <paramref name="q"/> (0..1), in microseconds; 0 when empty. It is the
    /// largest value of the histogram's bucket holding that rank, so percentiles never understate.
    /// </summary>
    public double Microseconds(double q) => Count == 0 ? 0 : _histogram.GetValueAtPercentile(q * 100) / 1000.0;
}
