using System.Runtime.InteropServices;
using System.Threading;
using EpollGen.Native;
using Xunit;

namespace EpollGen.Runtime.Tests.Native;

/// <summary>The range of a thread's stack that the libc-shaped API reads without a probe.</summary>
public unsafe class ThreadStackTests
{
    [Fact]
    public void ACallersLocals_AreOnTheStack_HeapAndRangesPastTheTopAreNot()
    {
        byte* local = stackalloc byte[16];
        Assert.True(ThreadStack.Contains(local, 16));

        byte* heap = (byte*)NativeMemory.Alloc(16);
        try
        {
            Assert.False(ThreadStack.Contains(heap, 16));
        }
        finally
        {
            NativeMemory.Free(heap);
        }
        Assert.False(ThreadStack.Contains(local, nuint.MaxValue / 2));   // runs past the top
        Assert.False(ThreadStack.Contains((void*)-4096L, 16));
    }

    [Fact]
    public void EachThread_HasItsOwnStack()
    {
        byte* mine = stackalloc byte[16];
        bool theirsOnTheirs = false, mineOnTheirs = true;
        var thread = new Thread(() =>
        {
            byte* theirs = stackalloc byte[16];
            theirsOnTheirs = ThreadStack.Contains(theirs, 16);
            mineOnTheirs = ThreadStack.Contains(mine, 16);
        });
        thread.Start();
        thread.Join();
        Assert.True(theirsOnTheirs);
        Assert.False(mineOnTheirs);
    }
}
