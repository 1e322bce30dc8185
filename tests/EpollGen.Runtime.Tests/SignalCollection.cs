using Xunit;

namespace EpollGen.Runtime.Tests;

/// <summary>
/// Tests that send SIGURG to a blocked thread run one at a time: a handler registration disposed by
/// one test while another's signal is in flight would let that signal be ignored.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SignalCollection
{
    public const string Name = "signals";
}
