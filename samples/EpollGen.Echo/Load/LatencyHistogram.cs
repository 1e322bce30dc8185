using System;
using System.Diagnostics;
using System.Numerics;

namespace EpollGen.Echo.Load;

/// <summary>
/// Latencies in nanoseconds, log-linear: exact below 64 ns, then 32 buckets per power of two
/// (about 3% resolution) up to ~18 minutes. Fixed size, so recording never allocates; one per
/// client thread, merged at the end, so recording never contends.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 32;
    private const int Linear = 2 * SubBuckets;
    private const int MaxExponent = 40;

    private readonly long[] _counts = new long[Linear + (MaxExponent - 6 + 1) * SubBuckets];

    public long Count { get; private set; }

    public void RecordTicks(long ticks) => Record((long)(ticks * (1_000_000_000.0 / Stopwatch.Frequency)));

    public void Record(long nanoseconds)
    {
        _counts[Index(Math.Max(0, nanoseconds))]++;
        Count++;
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
            _counts[i] += other._counts[i];
        Count += other.Count;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1), in microseconds; 0 when empty.</summary>
    public double Microseconds(double q)
    {
        if (Count == 0)
            return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
                return Upper(i) / 1000.0;
        }
        return Upper(_counts.Length - 1) / 1000.0;
    }

    private int Index(long value)
    {
        if (value < Linear)
            return (int)value;
        int msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        if (msb > MaxExponent)
            return _counts.Length - 1;
        int shift = msb - 5;
        return Linear + (msb - 6) * SubBuckets + (int)(value >> shift) - SubBuckets;
    }

    // The largest value a bucket holds, so percentiles never understate.
    private static long Upper(int index)
    {
        if (index < Linear)
            return index;
        int msb = (index - Linear) / SubBuckets + 6;
        int shift = msb - 5;
        long mantissa = (index - Linear) % SubBuckets + SubBuckets;
        return ((mantissa + 1) << shift) - 1;
    }
}
