namespace EpollGen.HostedService.Native;

/// <summary>
/// <c>struct inotify_event</c> from &lt;sys/inotify.h&gt;: the fixed header of one record, then
/// <c>len</c> bytes of name, NUL-padded so the next record starts aligned.
/// </summary>
[NativeStruct("inotify_event", Size = 16)]
[NativeField("wd", "int")]
[NativeField("mask", "uint32_t")]
[NativeField("cookie", "uint32_t")]
[NativeField("len", "uint32_t")]
[NativeField("name", "char[]")]
internal partial struct InotifyEvent;
