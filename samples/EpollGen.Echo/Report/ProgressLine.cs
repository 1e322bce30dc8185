using System;
using System.IO;

namespace EpollGen.Echo.Report;

/// <summary>
/// A status line rewritten in place with a carriage return on a terminal. Redirected output gets
/// one line per second instead, so logs stay readable.
/// </summary>
public sealed class ProgressLine(TextWriter output)
{
    private readonly bool _inPlace = !Console.IsOutputRedirected;
    private int _width;
    private DateTime _lastLine;
    private string? _pending;

    public void Update(string text)
    {
        if (_inPlace)
        {
            output.Write("\r" + text.PadRight(_width));
            _width = text.Length;
            output.Flush();
            return;
        }
        _pending = text;
        if (DateTime.UtcNow - _lastLine >= TimeSpan.FromSeconds(1))
        {
            output.WriteLine(text);
            _pending = null;
            _lastLine = DateTime.UtcNow;
        }
    }

    /// <summary>Ends the line, writing the last update if it was held back.</summary>
    public void End()
    {
        if (_inPlace)
            output.WriteLine();
        else if (_pending is not null)
            output.WriteLine(_pending);
        _pending = null;
    }
}
