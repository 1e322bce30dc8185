using Xunit;

namespace EpollGen.Runtime.Tests;

/// <summary>
/// Tests that run alone, after the parallel ones: those that send SIGURG to a blocked thread (a
/// handler registration disposed by one test while another's signal is in flight would let that
/// signal be ignored), and those that rely on a closed fd's number staying free, which another
/// test opening fds at the same moment would take.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SignalCollection
{
    public const string Name = "signals";
}
