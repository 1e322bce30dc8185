using System.Collections.Generic;
using System.Linq;

namespace EpollGen.Benchmarks;

/// <summary>What the hand-rolled benchmark modes report: medians, because these VMs are noisy.</summary>
internal static class Statistics
{
    public static double Median(IReadOnlyList<double> values)
    {
        double[] sorted = [.. values.Order()];
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
