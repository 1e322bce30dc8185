namespace EpollGen.IntegrationTests.Native;

/// <summary><c>struct pollfd</c> of <c>&lt;poll.h&gt;</c>: the fd, the bits to wait for, the bits that fired.</summary>
[NativeStruct("pollfd", Size = 8)]
[NativeField("fd", "int")]
[NativeField("events", "short")]
[NativeField("revents", "short")]
public partial struct PollFd;
