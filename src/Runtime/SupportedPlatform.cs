using System.Runtime.Versioning;

// Every type here ends in Linux system calls (epoll, io_uring, eventfd, poll), so the whole assembly
// is Linux-only: the platform-compatibility analyzer (CA1416) then tells a caller that builds for any
// platform to guard its calls with OperatingSystem.IsLinux() or to declare itself Linux-only too.
[assembly: SupportedOSPlatform("linux")]
