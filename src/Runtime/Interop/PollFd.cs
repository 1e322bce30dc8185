namespace EpollGen.Interop;

/// <summary><c>struct pollfd</c> of poll(2): the fd, the events asked for and the events returned.</summary>
[NativeStruct("pollfd", Size = 8)]
[NativeField("fd", "int")]
[NativeField("events", "short")]
[NativeField("revents", "short")]
public partial struct PollFd;
