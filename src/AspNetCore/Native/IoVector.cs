namespace EpollGen.AspNetCore.Native;

/// <summary>struct iovec: one buffer of a writev(2).</summary>
internal unsafe struct IoVector
{
    public byte* Base;
    public nuint Length;
}
