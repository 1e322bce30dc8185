namespace EpollGen.Interop;

/// <summary>
/// <c>struct signalfd_siginfo</c> of &lt;sys/signalfd.h&gt;: what a read of a signalfd returns for
/// each signal, 128 bytes whatever the signal. <c>ssi_signo</c> is the signal, <c>ssi_code</c>
/// how it was sent (<c>SI_USER</c> 0 for kill(2), <c>SI_TKILL</c> -6 for tgkill(2),
/// <c>SI_QUEUE</c> -1 for sigqueue(3)), <c>ssi_pid</c> and <c>ssi_uid</c> the sender.
/// </summary>
[NativeStruct("signalfd_siginfo", Size = 128)]
[NativeField("ssi_signo", "uint32_t")]
[NativeField("ssi_errno", "int32_t")]
[NativeField("ssi_code", "int32_t")]
[NativeField("ssi_pid", "uint32_t")]
[NativeField("ssi_uid", "uint32_t")]
[NativeField("ssi_fd", "int32_t")]
[NativeField("ssi_tid", "uint32_t")]
[NativeField("ssi_band", "uint32_t")]
[NativeField("ssi_overrun", "uint32_t")]
[NativeField("ssi_trapno", "uint32_t")]
[NativeField("ssi_status", "int32_t")]
[NativeField("ssi_int", "int32_t")]
[NativeField("ssi_ptr", "uint64_t")]
[NativeField("ssi_utime", "uint64_t")]
[NativeField("ssi_stime", "uint64_t")]
[NativeField("ssi_addr", "uint64_t")]
[NativeField("ssi_addr_lsb", "uint16_t")]
[NativeField("__pad2", "uint16_t")]
[NativeField("ssi_syscall", "int32_t")]
[NativeField("ssi_call_addr", "uint64_t")]
[NativeField("ssi_arch", "uint32_t")]
[NativeField("__pad", "uint8_t[28]")]
public partial struct SignalFdSigInfo;
