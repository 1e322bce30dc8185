using System.Linq;
using EpollGen.Interop;
using EpollGen.Testing;
using Xunit;

namespace EpollGen.Runtime.Tests.AsyncFds.Adapters;

/// <summary>
/// The adapters' generated kernel structs against the system's own headers (NativeStructLayoutTests
/// already checks each against gcc's reading of its own declaration).
/// </summary>
public sealed class AdapterStructLayoutTests
{
    [Fact]
    public void SignalFdSigInfo_MatchesSysSignalfdH()
    {
        (string Field, int Offset)[] fields =
        [
            ("ssi_signo", SignalFdSigInfo.NativeOffsets.ssi_signo), ("ssi_code", SignalFdSigInfo.NativeOffsets.ssi_code),
            ("ssi_pid", SignalFdSigInfo.NativeOffsets.ssi_pid), ("ssi_uid", SignalFdSigInfo.NativeOffsets.ssi_uid),
            ("ssi_status", SignalFdSigInfo.NativeOffsets.ssi_status), ("ssi_int", SignalFdSigInfo.NativeOffsets.ssi_int),
            ("ssi_ptr", SignalFdSigInfo.NativeOffsets.ssi_ptr), ("ssi_addr_lsb", SignalFdSigInfo.NativeOffsets.ssi_addr_lsb),
            ("ssi_syscall", SignalFdSigInfo.NativeOffsets.ssi_syscall), ("ssi_arch", SignalFdSigInfo.NativeOffsets.ssi_arch),
        ];
        string[] expressions = ["sizeof(struct signalfd_siginfo)", .. fields.Select(f => $"offsetof(struct signalfd_siginfo, {f.Field})")];

        long[] system = Gcc.Evaluate("#include <sys/signalfd.h>\n#include <stddef.h>", expressions);

        Assert.Equal([SignalFdSigInfo.NativeSize, .. fields.Select(f => (long)f.Offset)], system);
    }

    [Fact]
    public void InotifyEvent_MatchesSysInotifyH()
    {
        string[] expressions =
        [
            "sizeof(struct inotify_event)", "offsetof(struct inotify_event, wd)", "offsetof(struct inotify_event, mask)",
            "offsetof(struct inotify_event, cookie)", "offsetof(struct inotify_event, len)", "offsetof(struct inotify_event, name)",
        ];

        long[] system = Gcc.Evaluate("#include <sys/inotify.h>\n#include <stddef.h>", expressions);

        Assert.Equal(
            [InotifyEvent.NativeSize, InotifyEvent.NativeOffsets.wd, InotifyEvent.NativeOffsets.mask,
             InotifyEvent.NativeOffsets.cookie, InotifyEvent.NativeOffsets.len, InotifyEvent.NativeOffsets.name],
            system);
    }

    [Fact]
    public void InotifyMask_MatchesSysInotifyH()
    {
        InotifyMask[] values = [.. System.Enum.GetValues<InotifyMask>().Distinct()];
        long[] system = Gcc.Evaluate("#include <sys/inotify.h>", [.. values.Select(v => $"(unsigned int){v}")]);

        Assert.Equal(values.Select(v => (long)(uint)v), system);
    }
}
