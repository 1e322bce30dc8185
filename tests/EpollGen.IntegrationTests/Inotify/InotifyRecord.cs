namespace EpollGen.IntegrationTests.Inotify;

/// <summary>One <c>struct inotify_event</c> read from the kernel, its name decoded.</summary>
internal readonly record struct InotifyRecord(int Watch, InotifyMask Mask, uint Cookie, string Name);
