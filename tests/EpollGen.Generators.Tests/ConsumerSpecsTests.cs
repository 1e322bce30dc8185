using EpollGen.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit;

namespace EpollGen.Generators.Tests;

/// <summary>
/// Specs a user might write, one shape each: widths and signedness of enums, namespaces and nesting,
/// packing, arrays, pointers, unions, flexible arrays and keyword names. Each is snapshotted and
/// must compile clean.
/// </summary>
public sealed class ConsumerSpecsTests
{
    private static GeneratorDriverRunResult Run(string source)
    {
        GeneratorDriverRunResult result = GeneratorHarness.RunClean(GeneratorHarness.Compile([source]));
        Assert.NotEmpty(GeneratorHarness.Sources(result));
        return result;
    }

    [Fact]
    public void SignedByteEnums_InNestedTypes_TranslateAndFormat()
    {
        const string source = """
            using System;
            using EpollGen;

            namespace Serial.Lines;

            [Flags] public enum ModemBits : sbyte { DTR = 1, RTS = 2, CTS = 4, Ring = 8, Carrier = 16, Strobe = -128 }
            [Flags] public enum LineEvents : byte { Ready = 0x80, Send = 0x40, Clear = 0x20, Rang = 0x01 }

            public static partial class Wiring
            {
                internal partial struct Inner
                {
                    [FlagMap(typeof(ModemBits), typeof(LineEvents))]
                    [FlagPair(ModemBits.DTR, LineEvents.Ready)]
                    [FlagPair(ModemBits.RTS, LineEvents.Send)]
                    [FlagPair(ModemBits.CTS, LineEvents.Clear)]
                    [FlagPair(ModemBits.Strobe, LineEvents.Rang)]
                    [FlagMode(ModemBits.Carrier)]
                    [FlagUnsupported(ModemBits.Ring, "ring indication is not wired on this board")]
                    internal static partial class ModemMap;
                }
            }
            """;
        Snapshot.Match(Run(source), nameof(ConsumerSpecsTests));
    }

    [Fact]
    public void SixtyFourBitEnums_ShiftAcrossTheHighWord()
    {
        const string source = """
            using System;
            using EpollGen;

            namespace Wide;

            [Flags] public enum Capabilities : ulong { Chown = 1UL << 0, Kill = 1UL << 5, NetAdmin = 1UL << 12, SysAdmin = 1UL << 21, BlockSuspend = 1UL << 36, Checkpoint = 1UL << 40 }
            [Flags] public enum Grants : uint { Files = 1, Signals = 2, Network = 4, System = 8, Sleep = 16, Snapshot = 32 }

            [FlagMap(typeof(Capabilities), typeof(Grants), AlwaysReported = Capabilities.Kill)]
            [FlagPair(Capabilities.Chown, Grants.Files)]
            [FlagPair(Capabilities.Kill, Grants.Signals)]
            [FlagPair(Capabilities.NetAdmin, Grants.Network)]
            [FlagPair(Capabilities.SysAdmin, Grants.System)]
            [FlagPair(Capabilities.BlockSuspend, Grants.Sleep)]
            [FlagPair(Capabilities.Checkpoint, Grants.Snapshot)]
            public partial class CapabilityMap;
            """;
        Snapshot.Match(Run(source), nameof(ConsumerSpecsTests));
    }

    [Fact]
    public void SignedIntEnums_WithHighBitAndAliases_InGlobalNamespace()
    {
        const string source = """
            using System;
            using EpollGen;

            [Flags] public enum Wanted : int { None = 0, Read = 1, Write = 2, Both = 3, Edge = int.MinValue, Also = 1 }
            [Flags] public enum Got : short { In = 0x10, Out = 0x20, Err = 0x40 }

            [FlagMap(typeof(Wanted), typeof(Got))]
            [FlagPair(Wanted.Read, Got.In)]
            [FlagPair(Wanted.Write, Got.Out)]
            [FlagMode(Wanted.Edge)]
            internal sealed partial record Readiness;
            """;
        Snapshot.Match(Run(source), nameof(ConsumerSpecsTests));
    }

    [Fact]
    public void PackedStruct_WithArraysPointersAndFlexibleArray()
    {
        const string source = """
            using EpollGen;

            namespace Wire;

            [NativeStruct("frame_header", Packing = NativePacking.Packed, Size = 31)]
            [NativeField("magic", "uint8_t[3]")]
            [NativeField("kind", "unsigned char")]
            [NativeField("length", "uint32_t")]
            [NativeField("sequence", "unsigned long long")]
            [NativeField("next", "struct frame_header *")]
            [NativeField("checksum", "const uint16_t[3]")]
            [NativeField("ttl", "int8_t")]
            [NativeField("payload", "char[]")]
            public partial struct FrameHeader;
            """;
        Snapshot.Match(Run(source), nameof(ConsumerSpecsTests));
    }

    [Fact]
    public void NaturalStruct_WithPaddingUnionsAndKeywordNames()
    {
        const string source = """
            using EpollGen;

            namespace Kernel.Abi;

            public static partial class Nested
            {
                [NativeStruct("sample", Size = 48, X64Size = 48)]
                [NativeField("event", "uint16_t")]
                [NativeField("base", "uint64_t")]
                [NativeField("fixed", "int32_t", Overlays = "base")]
                [NativeField("object", "double", Overlays = "base")]
                [NativeField("flag", "bool")]
                [NativeField("size", "size_t")]
                [NativeField("counts", "int *")]
                [NativeField("tail", "short")]
                public partial struct Sample;
            }
            """;
        Snapshot.Match(Run(source), nameof(ConsumerSpecsTests));
    }

    [Fact]
    public void PackedOnX64Struct_GetsBothLayouts()
    {
        const string source = """
            using EpollGen;

            namespace Porting;

            [NativeStruct("my_epoll_event", Packing = NativePacking.PackedOnX64, Size = 16, X64Size = 12)]
            [NativeField("events", "uint32_t")]
            [NativeField("cookie", "uint64_t")]
            [NativeField("handle", "void*", Overlays = "cookie")]
            internal partial struct MyEpollEvent;
            """;
        Snapshot.Match(Run(source), nameof(ConsumerSpecsTests));
    }

    [Fact]
    public void SameEnumOnBothSides_FormatsOnce()
    {
        const string source = """
            using System;
            using EpollGen;

            namespace Perm;

            [Flags] public enum Mode : uint { OwnerRead = 0x100, OwnerWrite = 0x80, GroupRead = 0x20, GroupWrite = 0x10 }

            [FlagMap(typeof(Mode), typeof(Mode))]
            [FlagPair(Mode.OwnerRead, Mode.GroupRead)]
            [FlagPair(Mode.OwnerWrite, Mode.GroupWrite)]
            public partial struct OwnerToGroup;
            """;
        Snapshot.Match(Run(source), nameof(ConsumerSpecsTests));
    }

    [Fact]
    public void TwoSpecsInOneFile_EachGetsItsOwnFile()
    {
        const string source = """
            using System;
            using EpollGen;

            namespace Two;

            [Flags] public enum A : uint { X = 1, Y = 2 }
            [Flags] public enum B : uint { P = 4, Q = 8 }

            [FlagMap(typeof(A), typeof(B))]
            [FlagPair(A.X, B.P)]
            [FlagPair(A.Y, B.Q)]
            public static partial class AtoB;

            [NativeStruct("pair")]
            [NativeField("a", "int")]
            [NativeField("b", "long")]
            public partial struct Pair;
            """;
        GeneratorDriverRunResult result = Run(source);
        Assert.Equal(["Two.AtoB.FlagMap.g.cs", "Two.Pair.NativeStruct.g.cs"], GeneratorHarness.Sources(result).Select(s => s.HintName));
        Snapshot.Match(result, nameof(ConsumerSpecsTests));
    }
}
