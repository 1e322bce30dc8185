using EpollGen.Testing;
using Xunit;

namespace EpollGen.IntegrationTests.IoUring;

public class IoUringSqeTests
{
    [Fact]
    public void Size_Is64()
    {
        Assert.Equal(64, IoUringSqe.Size);
        Assert.Equal(64, IoUringSqe.NativeSize);
        IoUringSqe.CheckLayout();
    }

    [Fact]
    public void Offsets_AreTheKernelAbi()
    {
        // The io_uring ABI is fixed; these are the offsets every kernel and liburing agree on.
        Assert.Equal(
            new[] { 0, 1, 2, 4, 8, 16, 24, 28, 28, 32, 40, 42, 44, 48, 56 },
            new[]
            {
                IoUringSqe.Offsets.opcode, IoUringSqe.Offsets.flags, IoUringSqe.Offsets.ioprio, IoUringSqe.Offsets.fd,
                IoUringSqe.Offsets.off, IoUringSqe.Offsets.addr, IoUringSqe.Offsets.len, IoUringSqe.Offsets.rw_flags,
                IoUringSqe.Offsets.poll32_events, IoUringSqe.Offsets.user_data, IoUringSqe.Offsets.buf_index,
                IoUringSqe.Offsets.personality, IoUringSqe.Offsets.splice_fd_in, IoUringSqe.Offsets.addr3, IoUringSqe.Offsets.__pad2,
            });
    }

    [Fact]
    public void Offsets_MatchLinuxHeader()
    {
        string[] expressions =
        {
            "sizeof(struct io_uring_sqe)",
            "offsetof(struct io_uring_sqe, user_data)",
            "offsetof(struct io_uring_sqe, rw_flags)",
            "offsetof(struct io_uring_sqe, splice_fd_in)",
            "offsetof(struct io_uring_sqe, addr3)",
        };
        long[] kernel = Gcc.Evaluate("#include <linux/io_uring.h>", expressions);

        Assert.Equal(
            new long[] { IoUringSqe.Size, IoUringSqe.Offsets.user_data, IoUringSqe.Offsets.rw_flags, IoUringSqe.Offsets.splice_fd_in, IoUringSqe.Offsets.addr3 },
            kernel);
    }

    [Fact]
    public unsafe void WriteNative_PutsUserDataWhereTheKernelReadsIt()
    {
        byte* ring = stackalloc byte[2 * 64];
        new System.Span<byte>(ring, 2 * 64).Clear();
        var sqe = new IoUringSqe { opcode = 6, fd = 42, user_data = 0xDEADBEEF_CAFEF00DUL };
        sqe.poll32_events = 1;

        IoUringSqe.WriteNative(ring, 1, sqe);

        byte* second = ring + 64;
        Assert.Equal(6, second[0]);
        Assert.Equal(42, *(int*)(second + 4));
        Assert.Equal(1u, *(uint*)(second + 28));
        Assert.Equal(0xDEADBEEF_CAFEF00DUL, *(ulong*)(second + 32));
        Assert.Equal(0xDEADBEEF_CAFEF00DUL, IoUringSqe.ReadNative(ring, 1).user_data);
        Assert.Equal(0UL, *(ulong*)(ring + 32));
    }
}
