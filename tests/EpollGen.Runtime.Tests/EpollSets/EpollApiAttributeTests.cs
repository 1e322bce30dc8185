using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using EpollGen.Runtime.Tests.Native;
using Xunit;

namespace EpollGen.Runtime.Tests.EpollSets;

/// <summary>
/// The attributes the analyzers judge by ([EpollFlag] on EpollEvents, EpollControlOp) say what the
/// runtime does: a flag's constraints are exactly where EpollSet answers EINVAL, and the operations
/// are exactly the ones epoll_ctl accepts. If the runtime's checks change, these fail before the
/// analyzers can disagree with it.
/// </summary>
[Collection(SignalCollection.Name)]
public sealed class EpollApiAttributeTests : IDisposable
{
    private const int EINVAL = 22;
    private readonly EpollSet _set = new();
    private readonly EpollSet _other = new();
    private readonly int _fd = TestLibC.EventFd();

    public void Dispose()
    {
        _set.Dispose();
        _other.Dispose();
        TestLibC.close(_fd);
    }

    [Fact]
    public void ControlOps_AreTheEpollCtlConstants_AndNothingElseIsAccepted()
    {
        Assert.Equal(Epoll.EPOLL_CTL_ADD, (int)EpollControlOp.Add);
        Assert.Equal(Epoll.EPOLL_CTL_DEL, (int)EpollControlOp.Delete);
        Assert.Equal(Epoll.EPOLL_CTL_MOD, (int)EpollControlOp.Modify);

        int epfd = Epoll.epoll_create1(Epoll.EPOLL_CLOEXEC);
        try
        {
            foreach (int op in new[] { -1, 0, 4, 5 })
            {
                Assert.False(Enum.IsDefined((EpollControlOp)op));
                Assert.Equal(-1, Control(epfd, op, EpollEvents.EPOLLIN));
                Assert.Equal(EINVAL, Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            Epoll.close(epfd);
        }
    }

    [Fact]
    public void ConstrainedFlags_FailWithEinval_ExactlyWhereTheirAttributeSays()
    {
        var constrained = Flags()
            .Where(f => f.Rule is { AddOnly: true } or { NotOnEpollSets: true } or { CompatibleWith: not null })
            .Select(f => (f.Flag, Rule: f.Rule!))
            .ToArray();
        Assert.NotEmpty(constrained);
        foreach ((EpollEvents flag, EpollFlagAttribute rule) in constrained)
        {
            var compatible = (EpollEvents?)rule.CompatibleWith;
            foreach ((EpollEvents other, _) in Flags().Where(f => f.Flag != flag))
            {
                bool allowed = compatible is not { } c || (c & other) != 0;
                Assert.True(allowed == _set.TryAdd(_fd, flag | other, 0, out int errno), $"{flag} | {other}: errno {errno}");
                if (allowed)
                    _set.Remove(_fd);
                else
                    Assert.Equal(EINVAL, errno);
            }

            _set.Add(_fd, EpollEvents.EPOLLIN, 0);
            Assert.Equal(!rule.AddOnly, _set.TryModify(_fd, EpollEvents.EPOLLIN | flag, 0, out _));
            _set.Remove(_fd);

            Assert.Equal(!rule.NotOnEpollSets, _set.TryAdd(_other.Fd, EpollEvents.EPOLLIN | flag, 0, out int setErrno));
            Assert.True(rule.NotOnEpollSets ? setErrno == EINVAL : _set.TryRemove(_other.Fd, out _));
        }
    }

    [Fact]
    public void EdgeTriggeredAndOneShot_AreMarkedOnce()
    {
        Assert.Equal(EpollEvents.EPOLLET, Assert.Single(Flags(), f => f.Rule?.EdgeTriggered == true).Flag);
        Assert.Equal(EpollEvents.EPOLLONESHOT, Assert.Single(Flags(), f => f.Rule?.OneShot == true).Flag);
    }

    [Fact]
    public async System.Threading.Tasks.Task WaitRoles_SayWhatWaitRejects()
    {
        var events = new EpollEvent[1];
        foreach (string name in new[] { nameof(EpollSet.Wait), nameof(EpollSet.WaitAsync) })
        {
            ParameterInfo[] parameters = typeof(EpollSet).GetMethod(name)!.GetParameters();
            Assert.Equal(EpollArgumentRole.EventBuffer, parameters[0].GetCustomAttribute<EpollArgumentAttribute>()?.Role);
            Assert.Equal(EpollArgumentRole.TimeoutTimeSpan, parameters[1].GetCustomAttribute<EpollArgumentAttribute>()?.Role);
        }

        // An empty buffer, and a negative timeout that is not InfiniteTimeSpan (-1 ms), are rejected before waiting.
        Assert.Throws<ArgumentException>(() => _set.Wait(Span<EpollEvent>.Empty, TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentException>(() => _set.WaitAsync(Memory<EpollEvent>.Empty, TimeSpan.Zero).AsTask());
        foreach (TimeSpan negative in new[] { TimeSpan.FromTicks(-1), TimeSpan.FromTicks(-10_001), TimeSpan.FromSeconds(-1), TimeSpan.MinValue })
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => _set.Wait(events, negative));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _set.WaitAsync(events, negative).AsTask());
        }
        Assert.Equal(System.Threading.Timeout.InfiniteTimeSpan, TimeSpan.FromMilliseconds(-1));
        Assert.Equal(0, _set.Wait(events, TimeSpan.Zero));
    }

    private static (EpollEvents Flag, EpollFlagAttribute? Rule)[] Flags() =>
        typeof(EpollEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => ((EpollEvents)f.GetValue(null)!, f.GetCustomAttribute<EpollFlagAttribute>()))
            .Where(f => f.Item1 != 0)
            .ToArray();

    private unsafe int Control(int epfd, int op, EpollEvents events)
    {
        byte* native = stackalloc byte[EpollEvent.Size];
        EpollEvent.WriteNative(native, 0, new EpollEvent { Events = events });
        return Epoll.epoll_ctl(epfd, op, _fd, native);
    }
}
