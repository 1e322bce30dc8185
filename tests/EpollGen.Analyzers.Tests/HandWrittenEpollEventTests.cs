using EpollGen.Analyzers.Interop;
using EpollGen.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis.Testing;
using Xunit;

namespace EpollGen.Analyzers.Tests;

/// <summary>
/// EPG0200: a hand-written <c>epoll_event</c> (a 32-bit field, then a 64-bit one) passed to an epoll
/// P/Invoke is wrong on x86_64 (natural, 16 bytes) or everywhere else (packed, 12 bytes). Reported at
/// the parameter's type, once per P/Invoke parameter; quiet on everything it does not fully understand.
/// </summary>
public sealed class HandWrittenEpollEventTests
{
    private const string Usings = """
        using System;
        using System.Runtime.InteropServices;

        """;

    [Fact]
    public Task NaturalStruct_ToEpollWaitPointer_IsWrongOnX64()
    {
        var test = Verify.Analyzer<HandWrittenEpollEventAnalyzer>(Usings + """
            struct MyEpollEvent { public uint events; public ulong data; }

            static unsafe class Native
            {
                [DllImport("libc", SetLastError = true)]
                public static extern int epoll_wait(int epfd, {|#0:MyEpollEvent*|} events, int maxevents, int timeout);
            }
            """);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.HandWrittenEpollEvent)
            .WithLocation(0).WithArguments("MyEpollEvent", "16", "8", "x86_64", "12", "4"));
        return test.RunAsync();
    }

    [Fact]
    public Task PackedStruct_ToEpollCtlByRef_IsWrongOnArm64()
    {
        var test = Verify.Analyzer<HandWrittenEpollEventAnalyzer>(Usings + """
            [StructLayout(LayoutKind.Sequential, Pack = 1)]
            struct EpollEvent { public uint Events; public ulong Data; }

            static class Native
            {
                [DllImport("libc", SetLastError = true)]
                public static extern int epoll_ctl(int epfd, int op, int fd, ref {|#0:EpollEvent|} ev);
            }
            """);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.HandWrittenEpollEvent)
            .WithLocation(0).WithArguments("EpollEvent", "12", "4", "arm64 and other non-x86_64 Linux", "16", "8"));
        return test.RunAsync();
    }

    [Fact]
    public Task EntryPointDecides_NotTheMethodName() =>
        Verify.Analyzer<HandWrittenEpollEventAnalyzer>(Usings + """
            struct Ev { public int events; public long data; }

            static class Native
            {
                [DllImport("libc", EntryPoint = "epoll_pwait")]
                public static extern int Wait(int epfd, [In, Out] {|EPG0200:Ev[]|} events, int maxevents, int timeout, IntPtr sigmask);

                // Named like the kernel call but bound to another function: not judged.
                [DllImport("libc", EntryPoint = "my_epoll_shim")]
                public static extern int epoll_wait(int epfd, [In, Out] Ev[] events, int maxevents, int timeout);
            }
            """).RunAsync();

    [Fact]
    public Task LibraryImport_WithSpanAndOut_AndEnumFields()
    {
        // No LibraryImport generator runs in the harness, so the partial has no implementation (CS8795).
        return Verify.Analyzer<HandWrittenEpollEventAnalyzer>(Usings + """
            [Flags] enum Events : uint { In = 1, Out = 4 }

            [StructLayout(LayoutKind.Sequential, Pack = 4)]
            struct Ev { public Events events; public ulong data; }

            static partial class Native
            {
                [LibraryImport("libc", SetLastError = true)]
                public static partial int {|CS8795:epoll_pwait2|}(int epfd, {|EPG0200:Span<Ev>|} events, int maxevents, IntPtr timeout, IntPtr sigmask);

                [LibraryImport("libc", SetLastError = true)]
                public static partial int {|CS8795:epoll_ctl|}(int epfd, int op, int fd, out {|EPG0200:Ev|} ev);

                [LibraryImport("libc", EntryPoint = "epoll_wait")]
                public static partial int {|CS8795:Wait|}(int epfd, {|EPG0200:ReadOnlySpan<Ev>|} events, int maxevents, int timeout);
            }
            """).RunAsync();
    }

    [Fact]
    public Task ExplicitLayout_IsJudgedByTheDataOffset() =>
        Verify.Analyzer<HandWrittenEpollEventAnalyzer>(Usings + """
            [StructLayout(LayoutKind.Explicit)]
            struct Packed { [FieldOffset(0)] public uint events; [FieldOffset(4)] public ulong data; }

            [StructLayout(LayoutKind.Explicit, Size = 16)]
            struct Natural { [FieldOffset(0)] public uint events; [FieldOffset(8)] public ulong data; }

            static unsafe class Native
            {
                [DllImport("libc")] public static extern int epoll_ctl(int epfd, int op, int fd, {|EPG0200:Packed*|} ev);
                [DllImport("libc")] public static extern int epoll_wait(int epfd, {|EPG0200:Natural*|} events, int maxevents, int timeout);
            }
            """).RunAsync();

    [Fact]
    public Task NoFalsePositives_OnRealisticInterop() =>
        Verify.Analyzer<HandWrittenEpollEventAnalyzer>(Usings + """
            using EpollGen.Interop;

            struct TwoInts { public uint a; public uint b; }
            struct Reversed { public ulong data; public uint events; }
            struct Three { public uint events; public uint pad; public ulong data; }
            [StructLayout(LayoutKind.Auto)] struct AutoLaid { public uint events; public ulong data; }
            [StructLayout(LayoutKind.Sequential, Pack = 1, Size = 16)] struct Padded { public uint events; public ulong data; }
            [StructLayout(LayoutKind.Explicit)] struct Odd { [FieldOffset(0)] public uint events; [FieldOffset(6)] public ulong data; }
            struct Pointerish { public uint events; public IntPtr data; }
            struct Timespec { public long tv_sec; public long tv_nsec; }
            struct Stat32 { public uint dev; public ulong ino; }
            partial struct Split { public uint events; }
            partial struct Split { public ulong data; }

            static unsafe class Native
            {
                // The generated type, raw pointers and handles: nothing to judge.
                [DllImport("libc")] public static extern int epoll_wait(int epfd, EpollEvent* events, int maxevents, int timeout);
                [DllImport("libc")] public static extern int epoll_ctl(int epfd, int op, int fd, void* ev);
                [DllImport("libc")] public static extern int epoll_pwait(int epfd, IntPtr events, int maxevents, int timeout, IntPtr sigmask);
                [DllImport("libc")] public static extern int epoll_pwait2(int epfd, nint events, int maxevents, Timespec* timeout, IntPtr sigmask);
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W1(int epfd, TwoInts* e, int n, int t);
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W2(int epfd, Reversed* e, int n, int t);
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W3(int epfd, Three* e, int n, int t);
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W4(int epfd, AutoLaid* e, int n, int t);
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W5(int epfd, Padded* e, int n, int t);
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W6(int epfd, Odd* e, int n, int t);
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W7(int epfd, Pointerish* e, int n, int t);
                [DllImport("libc", EntryPoint = "epoll_wait")] public static extern int W8(int epfd, Split* e, int n, int t);

                // The same shape elsewhere in libc is none of this rule's business.
                [DllImport("libc")] public static extern int fstat(int fd, Stat32* buf);
                [DllImport("libc")] public static extern int read(int fd, ref Stat32 buf, nint count);
            }

            static unsafe class Managed
            {
                // Managed helpers that only share a name with the kernel calls.
                public static int epoll_wait(int epfd, Stat32* events, int maxevents, int timeout) => 0;
                public static int epoll_ctl(int epfd, int op, int fd, ref Stat32 ev) => 0;
            }
            """).RunAsync();
}
