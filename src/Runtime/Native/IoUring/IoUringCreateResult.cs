namespace EpollGen.Native.IoUring;

/// <summary>
/// What <see cref="IoUringRing.Create"/> produced: the ring, or the errno and the step that failed.
/// A failure is an ordinary outcome (ENOSYS, EPERM and EINVAL mean "use epoll instead").
/// </summary>
/// <param name="Ring">The new ring, or null on failure.</param>
/// <param name="Errno">0 on success, else the errno of the failed step.</param>
/// <param name="Operation">The failed step (<c>io_uring_setup</c>, <c>mmap</c>, …), or null on success.</param>
internal readonly record struct IoUringCreateResult(IoUringRing? Ring, int Errno, string? Operation)
{
    /// <summary>True when <see cref="Ring"/> is set.</summary>
    public bool Succeeded => Ring is not null;

    /// <summary>The failure as "operation failed with errno N", for messages and logs.</summary>
    public override string ToString() =>
        Succeeded ? $"io_uring ring fd {Ring!.Fd}" : $"{Operation} failed with errno {Errno}";
}
