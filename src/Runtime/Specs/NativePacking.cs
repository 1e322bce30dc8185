namespace EpollGen;

/// <summary>How a <see cref="NativeStructAttribute"/> struct is packed.</summary>
public enum NativePacking
{
    /// <summary>Natural C alignment on every architecture.</summary>
    Natural = 0,

    /// <summary><c>__attribute__((packed))</c> on every architecture: no padding at all.</summary>
    Packed = 1,

    /// <summary>
    /// Packed on x86_64 and natural elsewhere, like glibc's and the kernel's <c>struct epoll_event</c>
    /// (<c>__EPOLL_PACKED</c>). The generated type has the natural layout and a nested
    /// <c>X64Packed</c> twin; <c>ReadNative</c>/<c>WriteNative</c> pick one with a check the JIT folds.
    /// </summary>
    PackedOnX64 = 2,
}
