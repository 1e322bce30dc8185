namespace EpollGen.Native.IoUring;

/// <summary>
/// The <c>&lt;linux/io_uring.h&gt;</c> values the ring uses, under the header's own names so a test
/// can evaluate each name with gcc against the real header.
/// </summary>
internal static class IoUringConstants
{
    // enum io_uring_op
    public const byte IORING_OP_NOP = 0;
    public const byte IORING_OP_POLL_ADD = 6;
    public const byte IORING_OP_POLL_REMOVE = 7;
    public const byte IORING_OP_TIMEOUT = 11;
    public const byte IORING_OP_MSG_RING = 40;

    // io_uring_params.flags
    public const uint IORING_SETUP_CQSIZE = 1u << 3;
    public const uint IORING_SETUP_CLAMP = 1u << 4;
    public const uint IORING_SETUP_COOP_TASKRUN = 1u << 8;
    public const uint IORING_SETUP_SINGLE_ISSUER = 1u << 12;
    public const uint IORING_SETUP_DEFER_TASKRUN = 1u << 13;

    // io_uring_params.features
    public const uint IORING_FEAT_SINGLE_MMAP = 1u << 0;
    public const uint IORING_FEAT_EXT_ARG = 1u << 8;

    // sqe->len of POLL_ADD, and of POLL_REMOVE when it updates
    public const uint IORING_POLL_ADD_MULTI = 1u << 0;
    public const uint IORING_POLL_UPDATE_EVENTS = 1u << 1;
    public const uint IORING_POLL_UPDATE_USER_DATA = 1u << 2;

    // sqe->addr of MSG_RING: the command
    public const ulong IORING_MSG_DATA = 0;

    // cqe->flags
    public const uint IORING_CQE_F_MORE = 1u << 1;

    // io_uring_enter(2) flags
    public const uint IORING_ENTER_GETEVENTS = 1u << 0;
    public const uint IORING_ENTER_EXT_ARG = 1u << 3;

    // sq_ring->flags
    public const uint IORING_SQ_CQ_OVERFLOW = 1u << 1;

    // mmap(2) offsets of the three regions
    public const long IORING_OFF_SQ_RING = 0;
    public const long IORING_OFF_CQ_RING = 0x8000000;
    public const long IORING_OFF_SQES = 0x10000000;
}
