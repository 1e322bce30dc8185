namespace EpollGen.Events;

/// <summary>How a CEQ combines the bits of posts to the same id before a consumer takes them.</summary>
public enum CeqOperation : byte
{
    /// <summary>OR the bits together (<c>CEQ_OR</c>): readiness filters.</summary>
    Or = 1,

    /// <summary>Add the values (<c>CEQ_ADD</c>, 32-bit, wrapping): counts.</summary>
    Add = 2,
}
