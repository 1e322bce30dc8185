using System;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using EpollGen.Interop;
using EpollGen.Native.IoUring;
using EpollGen.Testing;
using Xunit;

namespace EpollGen.Runtime.Tests.NativeStructs;

/// <summary>Every generated native struct of the runtime, checked against gcc.</summary>
public class NativeStructLayoutTests
{
    // Found by reflection, so a spec added to the runtime is checked without touching this file.
    private static Type[] StructTypes() =>
        typeof(EpollEvent).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<NativeStructAttribute>() is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToArray();

    public static TheoryData<Type> Structs() => new(StructTypes());

    // Kernel uapi specs spell fields __u32, __s64, …, which <linux/types.h> defines.
    private const string KernelTypes = "#include <linux/types.h>\n";

    [Fact]
    public void Runtime_DeclaresTheKnownStructs()
    {
        Type[] expected =
        {
            typeof(Ceq), typeof(CeqEvent), typeof(EpollEvent), typeof(EventMsg), typeof(FdTapReq),
            typeof(IoUringParams), typeof(IoSqringOffsets), typeof(IoCqringOffsets), typeof(IoUringSqe),
            typeof(IoUringCqe), typeof(IoUringGeteventsArg), typeof(KernelTimespec),
        };
        Assert.Subset(StructTypes().ToHashSet(), expected.ToHashSet());
    }

    [Theory]
    [MemberData(nameof(Structs))]
    public void CDeclaration_MatchesGcc(Type type)
    {
        GeneratedLayout layout = GeneratedLayout.Primary(type);
        layout.AssertGccAgrees(KernelTypes + layout.Declaration, layout.Tag);
    }

    [Theory]
    [MemberData(nameof(Structs))]
    public void X64CDeclaration_MatchesGcc(Type type)
    {
        GeneratedLayout? x64 = GeneratedLayout.X64(type);
        Assert.Equal(type == typeof(EpollEvent), x64 is not null);
        if (x64 is null)
            return;
        // Both declarations in one file: the packed one must not borrow anything from the natural one.
        GeneratedLayout primary = GeneratedLayout.Primary(type);
        x64.AssertGccAgrees(KernelTypes + primary.Declaration + "\n" + x64.Declaration, x64.Tag);
    }

    [Theory]
    [MemberData(nameof(Structs))]
    public void CheckLayout_Passes(Type type)
    {
        // CheckLayout throws on a mismatch between the C# type and its own offset constants.
        MethodInfo check = type.GetMethod("CheckLayout", BindingFlags.Public | BindingFlags.Static)!;
        check.Invoke(null, null);
    }

    [Fact]
    public void EpollEvent_MatchesSystemHeader()
    {
        string[] expressions = { "sizeof(struct epoll_event)", "offsetof(struct epoll_event, events)", "offsetof(struct epoll_event, data)" };
        long[] system = Gcc.Evaluate("#include <sys/epoll.h>", expressions);

        Assert.Equal(new long[] { EpollEvent.NativeSize, EpollEvent.NativeOffsets.events, EpollEvent.NativeOffsets.data }, system);
        Assert.Equal(EpollEvent.NativeOffsets.data, EpollEvent.NativeOffsets.fd);
        Assert.Equal(EpollEvent.NativeOffsets.data, EpollEvent.NativeOffsets.ptr);
    }

    [Fact]
    public void EpollEvent_IsPackedExactlyOnX64()
    {
        bool x64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;
        Assert.Equal(x64, EpollEvent.IsX64Packed);
        Assert.Equal(x64 ? 12 : 16, EpollEvent.NativeSize);
        Assert.Equal(x64 ? 4 : 8, EpollEvent.NativeOffsets.data);
    }
}
