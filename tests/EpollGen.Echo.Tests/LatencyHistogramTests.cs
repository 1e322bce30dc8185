using System;
using EpollGen.Echo.Load;
using Xunit;

namespace EpollGen.Echo.Tests;

/// <summary>The load generator's latency histogram: percentiles close above the exact ones, and recording that never allocates.</summary>
public sealed class LatencyHistogramTests
{
    [Theory]
    [InlineData(0.50)]
    [InlineData(0.99)]
    [InlineData(0.999)]
    public void A_percentile_is_the_exact_one_or_at_most_a_tenth_of_a_percent_above(double q)
    {
        // Two threads' histograms merged, as the load generator merges them.
        var random = new Random(18);
        long[] values = new long[20_001];
        var first = new LatencyHistogram();
        var second = new LatencyHistogram();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = random.NextInt64(1_000, 10_000_000);
            (i % 2 == 0 ? first : second).Record(values[i]);
        }
        first.Add(second);
        Array.Sort(values);
        long exact = values[(int)Math.Ceiling(q * values.Length) - 1];

        double microseconds = first.Microseconds(q);

        Assert.Equal(values.Length, first.Count);
        Assert.InRange(microseconds * 1000, exact, exact * 1.001);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2049)]
    [InlineData(1_000_001)]
    [InlineData(123_456_789)]
    [InlineData((1L << 39) + 12_345)]
    [InlineData((1L << 40) - 1)]
    public void One_value_is_reported_at_most_a_tenth_of_a_percent_above_itself(long nanoseconds)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(nanoseconds);
        Assert.InRange(histogram.Microseconds(1) * 1000, nanoseconds, nanoseconds * 1.001);
    }

    [Fact]
    public void Recording_allocates_nothing()
    {
        var histogram = new LatencyHistogram();
        histogram.RecordTicks(12_345);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (long i = 0; i < 100_000; i++)
            histogram.RecordTicks(i * 7919);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Values_out_of_range_are_clamped_not_thrown()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);
        histogram.Record(long.MaxValue);
        Assert.Equal(2, histogram.Count);
        Assert.Equal(0, histogram.Microseconds(0.5));
        Assert.InRange(histogram.Microseconds(1) * 1000, 1L << 40, (1L << 40) * 1.001);
    }

    [Fact]
    public void An_empty_histogram_reports_zero() => Assert.Equal(0, new LatencyHistogram().Microseconds(0.99));
}
