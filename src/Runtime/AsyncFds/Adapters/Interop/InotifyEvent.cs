namespace EpollGen.Interop;

/// <summary>
/// <c>struct inotify_event</c> of &lt;sys/inotify.h&gt;: the fixed 16-byte header of one record
/// that a read of an inotify fd returns, followed by <c>len</c> bytes of name (NUL-terminated and
/// NUL-padded, so the next record starts aligned); <c>len</c> is 0 for an event on the watched
/// object itself.
/// </summary>
[NativeStruct("inotify_event", Size = 16)]
[NativeField("wd", "int")]
[NativeField("mask", "uint32_t")]
[NativeField("cookie", "uint32_t")]
[NativeField("len", "uint32_t")]
[NativeField("name", "char[]")]
public partial struct InotifyEvent;
