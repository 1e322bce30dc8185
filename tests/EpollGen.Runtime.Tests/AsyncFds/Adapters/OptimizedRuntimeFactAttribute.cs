using System;
using System.Diagnostics;
using System.Reflection;
using System.Threading.Tasks;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>
/// A fact about allocations across awaits that wait for an fd. They hold only for JIT-optimized
/// code (unoptimized, the generated flag tables' <c>ReadOnlySpan</c> properties allocate a field
/// stub per call on the engine's path), so the runtime is built optimized in every configuration,
/// and a runtime that is not fails here rather than skipping.
/// </summary>
public sealed class OptimizedRuntimeFactAttribute : FactAttribute
{
    private const int Batches = 10;

    /// <summary>
    /// Under this many bytes a round on average, no round allocated: the smallest object is 24
    /// bytes. The rest is the batch's own few hundred bytes (its async method and task) and
    /// whatever the runtime did meanwhile.
    /// </summary>
    public const int BytesPerRound = 8;

    /// <summary>
    /// The fewest bytes the whole process allocated across one of several runs of
    /// <paramref name="batch"/>: the first runs warm up, and tiered compilation may still be
    /// replacing methods during them.
    /// </summary>
    public static async Task<long> FewestBytes(Func<Task> batch)
    {
        Assert.False(
            typeof(AsyncFd).Assembly.GetCustomAttribute<DebuggableAttribute>() is { IsJITOptimizerDisabled: true },
            "the EpollGen runtime was built unoptimized; its project sets Optimize in every configuration");
        long fewest = long.MaxValue;
        for (int i = 0; i < Batches; i++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            await batch().ConfigureAwait(false);
            fewest = Math.Min(fewest, GC.GetTotalAllocatedBytes(precise: true) - before);
            if (fewest == 0)
                break;
        }
        return fewest;
    }
}
