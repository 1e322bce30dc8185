namespace EpollGen.IntegrationTests.Inotify;

/// <summary>
/// <c>struct inotify_event</c>: one record of an inotify read, followed by <c>len</c> bytes of
/// NUL-padded name.
/// </summary>
[NativeStruct("inotify_event", Size = 16)]
[NativeField("wd", "int")]
[NativeField("mask", "uint32_t")]
[NativeField("cookie", "uint32_t")]
[NativeField("len", "uint32_t")]
[NativeField("name", "char[]")]
public partial struct InotifyEvent;
