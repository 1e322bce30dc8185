namespace EpollGen.Native.IoUring;

// Kept out of the spec file: the generator tests compile the runtime's specs without the generated
// fields these accessors read.
internal partial struct IoUringParams
{
    /// <summary>The submission ring's field offsets the kernel filled in.</summary>
    public readonly unsafe IoSqringOffsets SqOffsets
    {
        get
        {
            fixed (ulong* words = sq_off)
                return *(IoSqringOffsets*)words;
        }
    }

    /// <summary>The completion ring's field offsets the kernel filled in.</summary>
    public readonly unsafe IoCqringOffsets CqOffsets
    {
        get
        {
            fixed (ulong* words = cq_off)
                return *(IoCqringOffsets*)words;
        }
    }
}
