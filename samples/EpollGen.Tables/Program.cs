using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using EpollGen.Interop;

namespace EpollGen.Tables;

/// <summary>
/// Prints what EpollGen's generators produced for this build: every native struct's layout (after
/// its own <c>CheckLayout</c>) and every flag map's translation table. Exits 1 if a layout check fails.
/// </summary>
public static class Program
{
    public static int Main()
    {
        TextWriter output = Console.Out;
        output.WriteLine("EpollGen.Tables prints the generated native struct layouts and flag translation tables; the event loop arrives with later work.");
        output.WriteLine();
        output.WriteLine($"architecture: {RuntimeInformation.ProcessArchitecture}, {IntPtr.Size * 8}-bit pointers");
        output.WriteLine($"EpollEvent.IsX64Packed: {EpollEvent.IsX64Packed} (struct epoll_event is {EpollEvent.NativeSize} bytes here)");

        var assembly = typeof(EpollEvent).Assembly;
        bool layoutsOk = true;
        foreach (Type type in assembly.GetTypes()
                     .Where(t => t.IsDefined(typeof(NativeStructAttribute), inherit: false))
                     .OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            output.WriteLine();
            layoutsOk &= LayoutPrinter.Print(output, type);
        }

        foreach (Type type in assembly.GetTypes()
                     .Where(t => t.IsDefined(typeof(FlagMapAttribute), inherit: false))
                     .OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            output.WriteLine();
            FlagTablePrinter.Print(output, type);
        }

        if (!layoutsOk)
        {
            Console.Error.WriteLine("a layout check failed; see above");
            return 1;
        }
        return 0;
    }
}
