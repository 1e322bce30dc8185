using Xunit;

namespace EpollGen.Runtime.Tests.Taps;

/// <summary>
/// Test classes that open thousands of fds run one at a time: two variants of the 10,000-fd test
/// side by side would pass the hard RLIMIT_NOFILE of 20,000 on the CI machines (EMFILE).
/// </summary>
[CollectionDefinition(Name)]
public sealed class ManyFdsCollection
{
    public const string Name = "many fds";
}
