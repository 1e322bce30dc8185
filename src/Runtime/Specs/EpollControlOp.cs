namespace EpollGen;

/// <summary>
/// The operations epoll_ctl accepts, with the values of <c>EPOLL_CTL_ADD</c>, <c>EPOLL_CTL_DEL</c> and
/// <c>EPOLL_CTL_MOD</c>. Any other value fails with EINVAL; the analyzers judge constant operations
/// against these members.
/// </summary>
public enum EpollControlOp
{
    /// <summary><c>EPOLL_CTL_ADD</c>.</summary>
    Add = 1,

    /// <summary><c>EPOLL_CTL_DEL</c>.</summary>
    Delete = 2,

    /// <summary><c>EPOLL_CTL_MOD</c>.</summary>
    Modify = 3,
}
