using Xunit;

namespace EpollGen.Preload.Tests;

/// <summary>
/// Every test that runs a program shares one published library, and runs alone: the programs
/// measure timeouts and wake-ups, which a second program on the same two cores would only blur.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PreloadCollection : ICollectionFixture<PreloadLibrary>
{
    public const string Name = "preload";
}
