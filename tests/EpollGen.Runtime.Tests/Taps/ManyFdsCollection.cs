using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>
/// Test classes that open thousands of fds run one at a time: two variants of the 10,000-fd test
/// side by side would pass the hard RLIMIT_NOFILE of 20,000 on the CI machines (EMFILE). They also
/// run apart from every other class, which neither competes for fds nor takes the number of an fd a
/// test just closed and expects a new file to reuse.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ManyFdsCollection
{
    public const string Name = "many fds";
}
