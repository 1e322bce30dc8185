using System.Collections.Generic;
using System.Linq;

namespace EpollGen.Benchmarks.Suite;

/// <summary>A measurement repeated over rounds: the median and the range of the round values.</summary>
internal readonly record struct Summary(double Median, double Min, double Max, int Count)
{
    public static Summary Of(IReadOnlyList<double> values) =>
        new(Statistics.Median(values), values.Min(), values.Max(), values.Count);

    /// <summary>The same rounds through <paramref name="map"/> (a decreasing map swaps min and max).</summary>
    public Summary Map(System.Func<double, double> map)
    {
        double a = map(Min), b = map(Max);
        return new(map(Median), System.Math.Min(a, b), System.Math.Max(a, b), Count);
    }
}
