using EpollGen.Analyzers.CodeFixes;
using EpollGen.Analyzers.Epoll;
using EpollGen.Analyzers.Tests.Infrastructure;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>Add EPOLLET (EPG0100) and remove a flag (EPG0101, EPG0102), in the mask's own style; fixed code exact.</summary>
public sealed class EpollUsageCodeFixTests
{
    private const string Head = """
        using System;
        using EpollGen;
        using EpollGen.Interop;

        """;

    [Fact]
    public Task QualifiedMask_GetsQualifiedEdgeTriggered() =>
        Verify.CodeFix<EpollUsageAnalyzer, AddEdgeTriggeredCodeFix>(
            Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd) => set.Add(fd, {|EPG0100:EpollEvents.EPOLLIN|}, 0);
            }
            """,
            Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd) => set.Add(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0);
            }
            """).RunAsync();

    [Fact]
    public Task UsingStaticMask_GetsBareEdgeTriggered() =>
        Verify.CodeFix<EpollUsageAnalyzer, AddEdgeTriggeredCodeFix>(
            """
            using EpollGen;
            using static EpollGen.Interop.EpollEvents;

            static class Use
            {
                static void Run(EpollSet set, int fd)
                {
                    set.Modify(fd, {|EPG0100:EPOLLIN | EPOLLOUT|} /* both */, 0);
                }
            }
            """,
            """
            using EpollGen;
            using static EpollGen.Interop.EpollEvents;

            static class Use
            {
                static void Run(EpollSet set, int fd)
                {
                    set.Modify(fd, EPOLLIN | EPOLLOUT | EPOLLET /* both */, 0);
                }
            }
            """).RunAsync();

    [Fact]
    public Task NamedConstantOrCast_GetsTheEnumsQualifiedName() =>
        Verify.CodeFix<EpollUsageAnalyzer, AddEdgeTriggeredCodeFix>(
            Head + """
            static class Use
            {
                const EpollEvents Readable = EpollEvents.EPOLLIN;

                static void Run(EpollSet set, int fd)
                {
                    set.Add(fd, {|EPG0100:Readable|}, 0);
                    set.Add(fd, {|EPG0100:(EpollEvents)1|}, 0);
                }
            }
            """,
            Head + """
            static class Use
            {
                const EpollEvents Readable = EpollEvents.EPOLLIN;

                static void Run(EpollSet set, int fd)
                {
                    set.Add(fd, Readable | EpollEvents.EPOLLET, 0);
                    set.Add(fd, (EpollEvents)1 | EpollEvents.EPOLLET, 0);
                }
            }
            """).RunAsync();

    [Fact]
    public Task NativeEvent_GetsEdgeTriggeredInsideTheCast() =>
        Verify.CodeFix<EpollUsageAnalyzer, AddEdgeTriggeredCodeFix>(
            Head + """
            static unsafe class Use
            {
                static int Run(int epfd, int fd)
                {
                    EpollEvent ev = new() { events = (uint)EpollEvents.EPOLLIN, data = 1 };
                    return Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, {|EPG0100:&ev|});
                }
            }
            """,
            Head + """
            static unsafe class Use
            {
                static int Run(int epfd, int fd)
                {
                    EpollEvent ev = new() { events = (uint)(EpollEvents.EPOLLIN | EpollEvents.EPOLLET), data = 1 };
                    return Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev);
                }
            }
            """).RunAsync();

    [Fact]
    public Task NativeEventsView_GetsEdgeTriggered() =>
        Verify.CodeFix<EpollUsageAnalyzer, AddEdgeTriggeredCodeFix>(
            Head + """
            static unsafe class Use
            {
                static int Run(int epfd, int fd)
                {
                    EpollEvent ev = new() { Events = EpollEvents.EPOLLIN, data = 1 };
                    return Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, {|EPG0100:&ev|});
                }
            }
            """,
            Head + """
            static unsafe class Use
            {
                static int Run(int epfd, int fd)
                {
                    EpollEvent ev = new() { Events = EpollEvents.EPOLLIN | EpollEvents.EPOLLET, data = 1 };
                    return Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev);
                }
            }
            """).RunAsync();

    [Fact]
    public Task UnsupportedFlag_IsRemoved() =>
        Verify.CodeFix<EpollUsageAnalyzer, RemoveEpollFlagCodeFix>(
            Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd)
                {
                    set.Add(fd, {|EPG0101:EpollEvents.EPOLLIN | EpollEvents.EPOLLMSG | EpollEvents.EPOLLET|}, 0);
                    set.Add(fd, {|EPG0101:EpollEvents.EPOLLMSG | EpollEvents.EPOLLOUT | EpollEvents.EPOLLET|}, 0);
                }
            }
            """,
            Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd)
                {
                    set.Add(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0);
                    set.Add(fd, EpollEvents.EPOLLOUT | EpollEvents.EPOLLET, 0);
                }
            }
            """).RunAsync();

    [Fact]
    public Task ExclusiveOnModify_IsRemoved_ButAnIncompatibleMixHasNoFix()
    {
        var test = Verify.CodeFix<EpollUsageAnalyzer, RemoveEpollFlagCodeFix>(
            Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd)
                {
                    set.Modify(fd, {|EPG0102:EpollEvents.EPOLLIN | EpollEvents.EPOLLET | EpollEvents.EPOLLEXCLUSIVE|}, 0);
                    set.Add(fd, {|EPG0102:EpollEvents.EPOLLIN | EpollEvents.EPOLLET | EpollEvents.EPOLLEXCLUSIVE | EpollEvents.EPOLLPRI|}, 0);
                }
            }
            """,
            Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd)
                {
                    set.Modify(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0);
                    set.Add(fd, {|EPG0102:EpollEvents.EPOLLIN | EpollEvents.EPOLLET | EpollEvents.EPOLLEXCLUSIVE | EpollEvents.EPOLLPRI|}, 0);
                }
            }
            """);
        // What stays unfixed is still reported after the fix.
        test.FixedState.MarkupHandling = Microsoft.CodeAnalysis.Testing.MarkupMode.Allow;
        return test.RunAsync();
    }

    [Fact]
    public Task FlagAlone_HasNoRemovalFix()
    {
        string source = Head + """
            static class Use
            {
                static void Run(EpollSet set, int fd) => set.Add(fd, {|EPG0100:{|EPG0101:EpollEvents.EPOLLMSG|}|}, 0);
            }
            """;
        return Verify.CodeFix<EpollUsageAnalyzer, RemoveEpollFlagCodeFix>(source, source).RunAsync();
    }

    [Fact]
    public Task AddRetriedAfterEexist_BecomesModify() =>
        Verify.CodeFix<EpollUsageAnalyzer, UseModifyCodeFix>(
            Head + """
            static unsafe class Use
            {
                static void Run(EpollSet set, int fd, int epfd)
                {
                    const EpollEvents In = EpollEvents.EPOLLIN | EpollEvents.EPOLLET;
                    if (!set.TryAdd(fd, In, 1, out int errno) && errno == 17)
                        {|EPG0107:set.Add|}(fd, In, 1);
                    if (!set.TryAdd(fd, In, 2, out errno) && errno == 17)
                        {|EPG0107:set.TryAdd|}(fd, In, 2, out _);
                    EpollEvent ev = new() { events = (uint)In };
                    if (Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 17)
                        Epoll.epoll_ctl(epfd, {|EPG0107:Epoll.EPOLL_CTL_ADD|}, fd, &ev);
                }
            }
            """,
            Head + """
            static unsafe class Use
            {
                static void Run(EpollSet set, int fd, int epfd)
                {
                    const EpollEvents In = EpollEvents.EPOLLIN | EpollEvents.EPOLLET;
                    if (!set.TryAdd(fd, In, 1, out int errno) && errno == 17)
                        set.Modify(fd, In, 1);
                    if (!set.TryAdd(fd, In, 2, out errno) && errno == 17)
                        set.TryModify(fd, In, 2, out _);
                    EpollEvent ev = new() { events = (uint)In };
                    if (Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 17)
                        Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_MOD, fd, &ev);
                }
            }
            """).RunAsync();

    [Fact]
    public Task LiteralOperationRetried_HasNoFix()
    {
        string source = Head + """
            static unsafe class Use
            {
                static void Run(int epfd, int fd)
                {
                    if (Epoll.epoll_ctl(epfd, 1, fd, null) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 17)
                        Epoll.epoll_ctl(epfd, {|EPG0107:1|}, fd, null);
                }
            }
            """;
        return Verify.CodeFix<EpollUsageAnalyzer, UseModifyCodeFix>(source, source).RunAsync();
    }
}
