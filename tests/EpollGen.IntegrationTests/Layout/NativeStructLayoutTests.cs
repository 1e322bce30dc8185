using System;
using System.Linq;
using System.Reflection;
using EpollGen.IntegrationTests.Inotify;
using EpollGen.IntegrationTests.IoUring;
using EpollGen.IntegrationTests.Native;
using EpollGen.IntegrationTests.Packed;
using EpollGen.Testing;
using Xunit;

namespace EpollGen.IntegrationTests.Layout;

/// <summary>Every struct this project declares, checked against gcc and, where one exists, the system header.</summary>
public class NativeStructLayoutTests
{
    // Found by reflection, so a spec added to this project is checked without touching this file.
    private static Type[] StructTypes() =>
        typeof(NativeStructLayoutTests).Assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<NativeStructAttribute>() is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToArray();

    public static TheoryData<Type> Structs() => new(StructTypes());

    public static readonly TheoryData<Type, string> SystemHeaders = new()
    {
        { typeof(InotifyEvent), "#include <sys/inotify.h>" },
        { typeof(IoUringSqe), "#include <linux/io_uring.h>" },
        { typeof(PollFd), "#include <poll.h>" },
    };

    [Fact]
    public void Project_DeclaresItsStructs()
    {
        Type[] expected = { typeof(InotifyEvent), typeof(IoUringSqe), typeof(PollFd), typeof(WireHeader) };
        Assert.Equal(expected.OrderBy(t => t.FullName, StringComparer.Ordinal), StructTypes());
    }

    [Theory]
    [MemberData(nameof(Structs))]
    public void CDeclaration_MatchesGcc(Type type)
    {
        GeneratedLayout layout = GeneratedLayout.Primary(type);
        // <linux/types.h> for the kernel's __u8 .. __u64.
        layout.AssertGccAgrees("#include <linux/types.h>\n" + layout.Declaration, layout.Tag);
    }

    [Theory]
    [MemberData(nameof(SystemHeaders))]
    public void Layout_MatchesSystemHeader(Type type, string header)
    {
        GeneratedLayout layout = GeneratedLayout.Primary(type);
        layout.AssertGccAgrees(header, layout.Tag);
    }

    [Theory]
    [MemberData(nameof(Structs))]
    public void CheckLayout_Passes(Type type)
    {
        // CheckLayout throws on a mismatch between the C# type and its own offset constants.
        type.GetMethod("CheckLayout", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, null);
    }
}
