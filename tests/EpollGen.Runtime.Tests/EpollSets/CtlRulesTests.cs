using System;
using EpollGen.Native;
using Xunit;
using static EpollGen.Interop.EpollEvents;

namespace EpollGen.Runtime.Tests.EpollSets;

/// <summary>CtlRules' errno decisions, in Linux's order, without a set or a kernel call.</summary>
public sealed class CtlRulesTests
{
    private static readonly Func<int, bool> Yes = static _ => true;
    private static readonly Func<int, bool> No = static _ => false;
    private static readonly Func<int, bool> Unasked = static _ => throw new InvalidOperationException("Linux stops before this check.");

    [Fact]
    public void AddRefusesTheSetItselfBeforeAnythingElse() =>
        Assert.Equal(LibC.EINVAL, CtlRules.CheckAdd(self: true, EPOLLIN, 0, Unasked, Unasked));

    [Fact]
    public void AddRefusesExclusiveWithBitsOutsideItsAllowedSetWithoutLookingAtTheTarget() =>
        Assert.Equal(LibC.EINVAL, CtlRules.CheckAdd(self: false, EPOLLEXCLUSIVE | EPOLLIN | EPOLLONESHOT, 0, Unasked, Unasked));

    [Fact]
    public void AddRefusesExclusiveOnAnEpollFdBeforeTheLoopCheck() =>
        Assert.Equal(LibC.EINVAL, CtlRules.CheckAdd(self: false, EPOLLEXCLUSIVE | EPOLLIN, 0, Yes, Unasked));

    [Fact]
    public void AddAsksWhetherTheTargetIsEpollOnlyForExclusive() =>
        Assert.Equal(0, CtlRules.CheckAdd(self: false, EPOLLIN | EPOLLET, 0, Unasked, Yes));

    [Fact]
    public void AddReportsALoopAfterTheMaskChecks()
    {
        Assert.Equal(LibC.ELOOP, CtlRules.CheckAdd(self: false, EPOLLEXCLUSIVE | EPOLLIN, 0, No, No));
        Assert.Equal(0, CtlRules.CheckAdd(self: false, EPOLLEXCLUSIVE | EPOLLIN, 0, No, Yes));
    }

    [Fact]
    public void AddOfAKeyHeldIsEExistUnlessTheNumberWasReused()
    {
        Assert.Equal(LibC.EEXIST, CtlRules.CheckExisting(reusedBehindOurBack: false));
        Assert.Equal(0, CtlRules.CheckExisting(reusedBehindOurBack: true));
    }

    [Theory]
    [InlineData(LibC.EBADF, true, EPOLLEXCLUSIVE, null, LibC.EBADF)]
    [InlineData(0, true, EPOLLIN, EPOLLIN, LibC.EINVAL)]
    [InlineData(0, false, EPOLLEXCLUSIVE | EPOLLIN, null, LibC.EINVAL)]
    [InlineData(0, false, EPOLLIN, null, LibC.ENOENT)]
    [InlineData(0, false, EPOLLIN, EPOLLEXCLUSIVE | EPOLLIN, LibC.EINVAL)]
    [InlineData(0, false, EPOLLOUT, EPOLLIN, 0)]
    public void ModifyChecksInLinuxsOrder(int fdError, bool self, Interop.EpollEvents events, Interop.EpollEvents? registered, int expected) =>
        Assert.Equal(expected, CtlRules.CheckModify(fdError, self, events, registered));

    [Theory]
    [InlineData(LibC.EBADF, true, false, LibC.EBADF)]
    [InlineData(0, true, true, LibC.EINVAL)]
    [InlineData(0, false, false, LibC.ENOENT)]
    [InlineData(0, false, true, 0)]
    public void RemoveChecksInLinuxsOrder(int fdError, bool self, bool registered, int expected) =>
        Assert.Equal(expected, CtlRules.CheckRemove(fdError, self, registered));

    [Fact]
    public void TheTargetsVerdictComesFirstOnlyForErrorsOtherThanEBadF()
    {
        Assert.False(CtlRules.AsksTarget(0));
        Assert.False(CtlRules.AsksTarget(LibC.EBADF));
        Assert.True(CtlRules.AsksTarget(LibC.ENOENT));
        Assert.Equal(LibC.EPERM, CtlRules.FirstError(LibC.EPERM, LibC.ENOENT));
        Assert.Equal(LibC.ENOENT, CtlRules.FirstError(0, LibC.ENOENT));
    }
}
