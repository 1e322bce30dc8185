using System;
using System.Globalization;
using System.Linq;
using System.Reflection;
using EpollGen.Native.IoUring;
using EpollGen.Testing;
using Xunit;

namespace EpollGen.Runtime.Tests.IoUring;

/// <summary>The io_uring specs and constants, checked against the real uapi headers with gcc.</summary>
public class IoUringHeaderTests
{
    private const string Header = "#include <linux/io_uring.h>";

    public static TheoryData<Type> Structs() => new(new[]
    {
        typeof(IoUringParams), typeof(IoSqringOffsets), typeof(IoCqringOffsets), typeof(IoUringSqe),
        typeof(IoUringCqe), typeof(IoUringGeteventsArg), typeof(KernelTimespec),
    });

    [Theory]
    [MemberData(nameof(Structs))]
    public void Layout_MatchesLinuxHeader(Type type)
    {
        // Every field name and overlay of the spec is a member of the kernel's struct, so the same
        // sizeof/offsetof expressions evaluated against <linux/io_uring.h> must give our numbers.
        GeneratedLayout layout = GeneratedLayout.Primary(type);
        layout.AssertGccAgrees(Header, layout.Tag);
    }

    [Fact]
    public void ParamsRingOffsets_AreTheHeadersNestedStructs()
    {
        string[] expressions =
        {
            "sizeof(((struct io_uring_params *)0)->sq_off)",
            "sizeof(((struct io_uring_params *)0)->cq_off)",
            "offsetof(struct io_uring_params, sq_off.array)",
            "offsetof(struct io_uring_params, cq_off.cqes)",
        };
        long[] kernel = Gcc.Evaluate(Header, expressions);

        Assert.Equal(
            new long[]
            {
                IoSqringOffsets.Size, IoCqringOffsets.Size,
                IoUringParams.Offsets.sq_off + IoSqringOffsets.Offsets.array,
                IoUringParams.Offsets.cq_off + IoCqringOffsets.Offsets.cqes,
            },
            kernel);
    }

    [Fact]
    public unsafe void ParamsRingOffsets_ReadTheWordsTheKernelWrites()
    {
        var parameters = default(IoUringParams);
        byte* raw = (byte*)&parameters;
        *(uint*)(raw + IoUringParams.Offsets.sq_off + IoSqringOffsets.Offsets.array) = 0x1234;
        *(uint*)(raw + IoUringParams.Offsets.cq_off + IoCqringOffsets.Offsets.cqes) = 0x5678;

        Assert.Equal(0x1234u, parameters.SqOffsets.array);
        Assert.Equal(0x5678u, parameters.CqOffsets.cqes);
    }

    [Fact]
    public void Constants_MatchLinuxHeader()
    {
        FieldInfo[] constants = typeof(IoUringConstants).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .OrderBy(f => f.MetadataToken)
            .ToArray();
        Assert.NotEmpty(constants);

        long[] kernel = Gcc.Evaluate(Header, constants.Select(f => f.Name).ToArray());

        Assert.Equal(
            constants.Select(f => f.Name + " = " + Convert.ToInt64(f.GetRawConstantValue(), CultureInfo.InvariantCulture)),
            constants.Select((f, i) => f.Name + " = " + kernel[i].ToString(CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void SystemCallNumbers_MatchThisArchitecturesHeader()
    {
        Assert.True(IoUringSyscalls.NumbersKnown);
        long[] kernel = Gcc.Evaluate("#include <asm/unistd.h>", new[] { "__NR_io_uring_setup", "__NR_io_uring_enter", "__NR_io_uring_register" });

        Assert.Equal(new[] { IoUringSyscalls.SYS_io_uring_setup, IoUringSyscalls.SYS_io_uring_enter, IoUringSyscalls.SYS_io_uring_register }, kernel);
    }
}
