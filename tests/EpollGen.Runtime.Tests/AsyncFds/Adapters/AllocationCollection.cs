using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>
/// Tests that count the whole process's allocations across a loop of awaits, whose continuations
/// run on pool threads: they run alone, after the parallel tests, so other tests' allocations do
/// not land in the count.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "adapter allocations";
}
