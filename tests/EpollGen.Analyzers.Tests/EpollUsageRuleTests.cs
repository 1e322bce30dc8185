using EpollGen.Analyzers.Epoll;
using EpollGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// EPG0100–EPG0108 on calls of EpollSet and the libc-shaped Epoll API: each rule fires on the constant
/// that is wrong, at that argument, and stays quiet on the same call written correctly or with a value
/// it cannot see.
/// </summary>
public sealed class EpollUsageRuleTests
{
    /// <summary>A consumer file's start: the usings and a class with a set and two fds at hand.</summary>
    public const string Prelude = """
        using System;
        using EpollGen;
        using EpollGen.Interop;

        public static unsafe class Use
        {
            static readonly EpollSet s_other = new();

        """;

    private const string End = "\n}\n";

    [Fact]
    public Task LevelTriggeredAdd_IsReportedWithWhatItCosts()
    {
        var test = Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(EpollSet set, int fd) => set.Add(fd, {|#0:EpollEvents.EPOLLIN | EpollEvents.EPOLLRDHUP|}, 0);
            """ + End);
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.LevelTriggeredRegistration)
            .WithLocation(0).WithArguments("EPOLLIN | EPOLLRDHUP", "EPOLLET"));
        return test.RunAsync();
    }

    [Fact]
    public Task LevelTriggered_ModifyTryAddTryModifyHandleAndConstants_AreReported() =>
        Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                const EpollEvents Readable = EpollEvents.EPOLLIN;

                public static void Run(EpollSet set, int fd, Microsoft.Win32.SafeHandles.SafeFileHandle handle)
                {
                    set.Modify(fd, {|EPG0100:EpollEvents.EPOLLOUT|}, 1);
                    set.TryAdd(fd, {|EPG0100:Readable|}, 2, out _);
                    set.TryModify(fd, {|EPG0100:(EpollEvents)5|}, 3, out _);
                    set.Add(handle, {|EPG0100:EpollEvents.EPOLLIN|}, 4);
                    set.Modify(handle, data: 5, events: {|EPG0100:EpollEvents.EPOLLIN|});
                }
            """ + End).RunAsync();

    [Fact]
    public Task EdgeTriggeredOneShotEmptyAndUnknownMasks_AreQuiet() =>
        Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(EpollSet set, int fd, EpollEvents chosen, bool write)
                {
                    set.Add(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0);
                    set.Modify(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLONESHOT, 0);
                    set.Add(fd, EpollEvents.None, 0);
                    set.Add(fd, chosen, 0);
                    set.Add(fd, write ? EpollEvents.EPOLLOUT : EpollEvents.EPOLLIN, 0);
                    set.Remove(fd);
                }
            """ + End).RunAsync();

    [Fact]
    public Task UnsupportedFlag_QuotesTheFlagMapsReason()
    {
        var test = Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(EpollSet set, int fd) => set.Add(fd, {|#0:EpollEvents.EPOLLIN | EpollEvents.EPOLLMSG | EpollEvents.EPOLLET|}, 0);
            """ + End);
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.UnsupportedEpollFlag).WithLocation(0).WithArguments(
            "EPOLLMSG", "Linux accepts EPOLLMSG but never reports it, and neither does EpollGen; the registration will never fire for it"));
        return test.RunAsync();
    }

    [Fact]
    public Task Exclusive_WithModify_WithOtherFlags_OnASet_AreRejected()
    {
        var test = Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(EpollSet set, int fd)
                {
                    set.Modify(fd, {|#0:EpollEvents.EPOLLIN | EpollEvents.EPOLLEXCLUSIVE | EpollEvents.EPOLLET|}, 0);
                    set.Add(fd, {|#1:EpollEvents.EPOLLIN | EpollEvents.EPOLLEXCLUSIVE | EpollEvents.EPOLLONESHOT | EpollEvents.EPOLLRDHUP | EpollEvents.EPOLLPRI|}, 0);
                    set.Add(s_other.Fd, {|#2:EpollEvents.EPOLLIN | EpollEvents.EPOLLEXCLUSIVE | EpollEvents.EPOLLET|}, 0);
                    set.Add(fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLOUT | EpollEvents.EPOLLEXCLUSIVE | EpollEvents.EPOLLWAKEUP | EpollEvents.EPOLLET, 0);
                }
            """ + End);
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.EpollFlagRejected).WithLocation(0).WithArguments("EPOLLEXCLUSIVE", "is accepted by EPOLL_CTL_ADD only"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.EpollFlagRejected).WithLocation(1).WithArguments("EPOLLEXCLUSIVE", "cannot be combined with EPOLLPRI | EPOLLRDHUP | EPOLLONESHOT"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.EpollFlagRejected).WithLocation(2).WithArguments("EPOLLEXCLUSIVE", "cannot be used for a target that is an epoll set"));
        return test.RunAsync();
    }

    [Fact]
    public Task SetAddedToItself_ByEpollSetAndByEpollCtl()
    {
        var test = Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(EpollSet set, int epfd, int fd)
                {
                    set.Add({|#0:set.Fd|}, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0);
                    s_other.TryAdd({|#1:s_other.Fd|}, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0, out _);
                    EpollEvent ev = new EpollEvent { events = (uint)(EpollEvents.EPOLLIN | EpollEvents.EPOLLET) };
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, {|#2:epfd|}, &ev);
                    // Another set's fd, the set's own fd by DEL, a different variable: not this rule.
                    set.Add(s_other.Fd, EpollEvents.EPOLLIN | EpollEvents.EPOLLET, 0);
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_DEL, epfd, null);
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev);
                }
            """ + End);
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.SetAddedToItself).WithLocation(0).WithArguments("set.Fd"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.SetAddedToItself).WithLocation(1).WithArguments("s_other.Fd"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.SetAddedToItself).WithLocation(2).WithArguments("epfd"));
        return test.RunAsync();
    }

    [Fact]
    public Task EpollCtl_JudgesALocalEventInitialisedWithAConstant() =>
        Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(int epfd, int fd)
                {
                    EpollEvent lt = new() { events = (uint)EpollEvents.EPOLLIN, data = 7 };
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, {|EPG0100:&lt|});
                    EpollEvent excl = new EpollEvent { events = (uint)(EpollEvents.EPOLLIN | EpollEvents.EPOLLEXCLUSIVE | EpollEvents.EPOLLET) };
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_MOD, fd, {|EPG0102:&excl|});
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &excl);
                    EpollEvent typed = new() { Events = EpollEvents.EPOLLOUT, data = 8 };
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, {|EPG0100:&typed|});
                }
            """ + End).RunAsync();

    [Fact]
    public Task EpollCtl_IsQuietOnEventsItCannotSee() =>
        Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(int epfd, int fd, int op, EpollEvent* given, uint mask)
                {
                    EpollEvent written = new() { events = (uint)EpollEvents.EPOLLIN };
                    written.events |= (uint)EpollEvents.EPOLLET;
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &written);

                    EpollEvent typed = new() { Events = EpollEvents.EPOLLIN };
                    typed.Events |= EpollEvents.EPOLLET;
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &typed);

                    EpollEvent passed = new() { events = (uint)EpollEvents.EPOLLIN };
                    Fill(ref passed);
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &passed);

                    EpollEvent raw = new() { events = 1 };
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &raw);

                    EpollEvent variable = new() { events = mask };
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &variable);

                    EpollEvent lt = new() { events = (uint)EpollEvents.EPOLLIN };
                    Epoll.epoll_ctl(epfd, op, fd, &lt);
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_DEL, fd, &lt);
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, given);
                }

                static void Fill(ref EpollEvent ev) => ev.events |= (uint)EpollEvents.EPOLLET;
            """ + End).RunAsync();

    [Fact]
    public Task InvalidOperation_MaxEventsAndTimeout_AreReported()
    {
        var test = Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(int epfd, int fd, void* buffer, int n, int ms)
                {
                    Epoll.epoll_ctl(epfd, {|#0:4|}, fd, null);
                    Epoll.epoll_ctl(epfd, {|#1:0|}, fd, null);
                    Epoll.epoll_wait(epfd, buffer, {|#2:0|}, -1);
                    Epoll.epoll_pwait(epfd, buffer, {|#3:-8|}, 0, null);
                    Epoll.epoll_pwait2(epfd, buffer, {|#4:0|}, null, null);
                    Epoll.epoll_wait(epfd, buffer, 64, {|#5:-1000|});
                    Epoll.epoll_pwait(epfd, buffer, 64, {|#6:-5 * 60 * 1000|}, null);

                    // Right, or not constant: quiet.
                    Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_DEL, fd, null);
                    Epoll.epoll_ctl(epfd, n, fd, null);
                    Epoll.epoll_wait(epfd, buffer, n, ms);
                    Epoll.epoll_wait(epfd, buffer, 1, System.Threading.Timeout.Infinite);
                    Epoll.epoll_wait(epfd, buffer, 16, 0);
                    Epoll.epoll_pwait(epfd, buffer, 16, 250, null);
                }
            """ + End);
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.InvalidControlOperation).WithLocation(0).WithArguments("4"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.InvalidControlOperation).WithLocation(1).WithArguments("0"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.NonPositiveMaxEvents).WithLocation(2).WithArguments("maxevents is 0", "fails with EINVAL"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.NonPositiveMaxEvents).WithLocation(3).WithArguments("maxevents is -8", "fails with EINVAL"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.NonPositiveMaxEvents).WithLocation(4).WithArguments("maxevents is 0", "fails with EINVAL"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.NegativeTimeout).WithLocation(5).WithArguments("-1000"));
        test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.NegativeTimeout).WithLocation(6).WithArguments("-300000"));
        return test.RunAsync();
    }

    [Fact]
    public Task EmptyBuffer_OfWaitAndWaitAsync_IsReportedAtTheBuffer()
    {
        var test = Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(EpollSet set)
                {
                    set.Wait({|#0:Span<EpollEvent>.Empty|}, TimeSpan.Zero);
                    set.Wait({|#1:new EpollEvent[0]|}, TimeSpan.Zero);
                    set.Wait({|#2:[]|}, TimeSpan.Zero);
                    set.Wait({|#3:stackalloc EpollEvent[0]|}, TimeSpan.Zero);
                    set.Wait({|#4:new EpollEvent[] { }|}, TimeSpan.Zero);
                    set.Wait({|#5:default|}, TimeSpan.Zero);
                    set.Wait({|#6:Array.Empty<EpollEvent>()|}, TimeSpan.Zero);
                    set.Wait(timeout: TimeSpan.Zero, events: {|#7:new Span<EpollEvent>()|});
                    _ = set.WaitAsync({|#8:Memory<EpollEvent>.Empty|}, TimeSpan.Zero);
                    _ = set.WaitAsync({|#9:new EpollEvent[0]|}, TimeSpan.Zero);
                }
            """ + End);
        string[] written =
        [
            "Span<EpollEvent>.Empty", "new EpollEvent[0]", "[]", "stackalloc EpollEvent[0]", "new EpollEvent[] { }", "default",
            "Array.Empty<EpollEvent>()", "new Span<EpollEvent>()", "Memory<EpollEvent>.Empty", "new EpollEvent[0]",
        ];
        for (int i = 0; i < written.Length; i++)
        {
            test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.NonPositiveMaxEvents).WithLocation(i)
                .WithArguments($"'{written[i]}' holds no events", "throws ArgumentException"));
        }
        return test.RunAsync();
    }

    [Fact]
    public Task NegativeTimeSpan_OfWaitAndWaitAsync_IsReportedAtTheTimeout()
    {
        var test = Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(EpollSet set, EpollEvent[] buffer)
                {
                    set.Wait(buffer, {|#0:TimeSpan.FromSeconds(-1)|});
                    set.Wait(buffer, {|#1:TimeSpan.FromMilliseconds(-5)|});
                    set.Wait(buffer, {|#2:TimeSpan.FromMilliseconds(-1.5)|});
                    set.Wait(buffer, {|#3:TimeSpan.FromMinutes(0, -1)|});
                    set.Wait(buffer, {|#4:new TimeSpan(0, 0, -30)|});
                    set.Wait(buffer, {|#5:TimeSpan.FromTicks(-1)|});
                    set.Wait(buffer, {|#6:-TimeSpan.FromSeconds(2)|});
                    set.Wait(buffer, {|#7:TimeSpan.MinValue|});
                    set.Wait(timeout: {|#8:(TimeSpan.FromHours(-1))|}, events: buffer);
                    _ = set.WaitAsync(buffer, {|#9:TimeSpan.FromDays(-0.5)|});
                }
            """ + End);
        string[] written =
        [
            "TimeSpan.FromSeconds(-1)", "TimeSpan.FromMilliseconds(-5)", "TimeSpan.FromMilliseconds(-1.5)", "TimeSpan.FromMinutes(0, -1)",
            "new TimeSpan(0, 0, -30)", "TimeSpan.FromTicks(-1)", "-TimeSpan.FromSeconds(2)", "TimeSpan.MinValue",
            "(TimeSpan.FromHours(-1))", "TimeSpan.FromDays(-0.5)",
        ];
        for (int i = 0; i < written.Length; i++)
            test.ExpectedDiagnostics.Add(Result(DiagnosticDescriptors.NegativeTimeSpanTimeout).WithLocation(i).WithArguments(written[i]));
        return test.RunAsync();
    }

    [Fact]
    public Task WaitWithRoomAndAValidOrUnknownTimeout_IsQuiet() =>
        Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(EpollSet set, EpollEvent[] given, int n, TimeSpan timeout, double seconds, long ticks)
                {
                    Span<EpollEvent> local = stackalloc EpollEvent[4];
                    set.Wait(new EpollEvent[1], TimeSpan.Zero);
                    set.Wait([default], TimeSpan.Zero);
                    set.Wait(stackalloc EpollEvent[4], System.Threading.Timeout.InfiniteTimeSpan);
                    set.Wait(new EpollEvent[n], timeout);
                    set.Wait(local, TimeSpan.FromSeconds(seconds));
                    set.Wait(given, TimeSpan.FromSeconds(1));
                    set.Wait(given, TimeSpan.FromMilliseconds(250.5));
                    set.Wait(given, new TimeSpan(0, 0, 5));
                    set.Wait(given, -TimeSpan.FromSeconds(-1));
                    set.Wait(given, TimeSpan.FromTicks(ticks));
                    set.Wait(given, default);
                    set.Wait(given, TimeSpan.MaxValue);
                    // Both are Timeout.InfiniteTimeSpan, -1 ms, by value.
                    set.Wait(given, TimeSpan.FromMilliseconds(-1));
                    set.Wait(given, TimeSpan.FromTicks(-10_000));
                    // Rounds to zero ticks: a poll, not a negative timeout.
                    set.Wait(given, TimeSpan.FromMilliseconds(-0.00001));
                    _ = set.WaitAsync(given, System.Threading.Timeout.InfiniteTimeSpan);
                    _ = set.WaitAsync(given.AsMemory(0, n), TimeSpan.FromMinutes(1));
                }
            """ + End).RunAsync();

    [Fact]
    public Task AddRetriedAfterEexist_IsReported_InTheUsualShapes() =>
        Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                const int EEXIST = 17;
                const EpollEvents In = EpollEvents.EPOLLIN | EpollEvents.EPOLLET;

                public static void Run(EpollSet set, int fd, int epfd)
                {
                    if (!set.TryAdd(fd, In, 1, out int errno) && errno == EEXIST)
                        {|EPG0107:set.Add|}(fd, In, 1);

                    bool added = set.TryAdd(fd, In, 2, out int error);
                    if (!added && error is 17)
                    {
                        {|EPG0107:set.TryAdd|}(fd, In, 2, out _);
                    }

                    try
                    {
                        set.Add(fd, In, 3);
                    }
                    catch (EpollException e) when (e.Errno == EEXIST)
                    {
                        {|EPG0107:set.Add|}(fd, In, 3);
                    }

                    try
                    {
                        set.Add(fd, In, 4);
                    }
                    catch (EpollException e)
                    {
                        if (e.Errno == EEXIST)
                            {|EPG0107:set.Add|}(fd, In, 4);
                    }

                    EpollEvent ev = new() { events = (uint)In };
                    if (Epoll.epoll_ctl(epfd, Epoll.EPOLL_CTL_ADD, fd, &ev) < 0 && System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == EEXIST)
                        Epoll.epoll_ctl(epfd, {|EPG0107:Epoll.EPOLL_CTL_ADD|}, fd, &ev);
                }
            """ + End).RunAsync();

    [Fact]
    public Task AddAfterEexist_OfAnotherFdOrSet_OrAfterNoAdd_IsQuiet() =>
        Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                const int EEXIST = 17;
                const EpollEvents In = EpollEvents.EPOLLIN | EpollEvents.EPOLLET;

                public static void Run(EpollSet set, int fd, int other, int errno)
                {
                    if (!set.TryAdd(fd, In, 1, out int e1) && e1 == EEXIST)
                        set.Add(other, In, 1);
                    if (!set.TryAdd(fd, In, 1, out int e2) && e2 == EEXIST)
                        s_other.Add(fd, In, 1);
                    if (!set.TryAdd(fd, In, 1, out int e3) && e3 == EEXIST)
                        set.Modify(fd, In, 1);
                    if (!set.TryAdd(fd, In, 1, out int e4) && e4 == 2)
                        set.Add(fd, In, 1);
                    if (errno == EEXIST)
                        set.Add(fd, In, 1);
                    if (!set.TryModify(fd, In, 1, out int e5) && e5 == EEXIST)
                        set.Add(fd, In, 1);
                }
            """ + End).RunAsync();

    [Fact]
    public Task LookalikeMethodsWithoutTheAttributes_AreNotJudged() =>
        Verify.Analyzer<EpollUsageAnalyzer>(Prelude + """
                public static void Run(int epfd, int fd)
                {
                    Fake.Add(fd, EpollEvents.EPOLLIN, 0);
                    Fake.epoll_ctl(epfd, 9, fd, null);
                    Fake.epoll_wait(epfd, null, 0, -7);
                }
            }

            static unsafe class Fake
            {
                public static void Add(int fd, EpollEvents events, ulong data) { }
                public static int epoll_ctl(int epfd, int op, int fd, void* ev) => 0;
                public static int epoll_wait(int epfd, void* events, int maxevents, int timeout) => 0;
            """ + End).RunAsync();

    // The additional location is the expression a code fix edits; CodeFixTests check where it points.
    private static DiagnosticResult Result(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor) =>
        new DiagnosticResult(descriptor).WithOptions(DiagnosticOptions.IgnoreAdditionalLocations);
}
