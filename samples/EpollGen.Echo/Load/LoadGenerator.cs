using System;
using System.Diagnostics;
using System.Threading;

namespace EpollGen.Echo.Load;

/// <summary>The flags a run's client threads read; written by the controller only.</summary>
internal sealed class LoadRun
{
    private volatile bool _recording;
    private volatile bool _stopping;
    private long _drainDeadline = long.MaxValue;

    public bool Recording { get => _recording; set => _recording = value; }

    public bool Stopping => _stopping;

    public bool DrainExpired => Stopwatch.GetTimestamp() > Volatile.Read(ref _drainDeadline);

    public void Stop(TimeSpan drain)
    {
        Volatile.Write(ref _drainDeadline, Stopwatch.GetTimestamp() + (long)(drain.TotalSeconds * Stopwatch.Frequency));
        _stopping = true;
    }
}

/// <summary>
/// The closed-loop load generator: connects, warms up, measures for the duration while reporting
/// progress, then stops and lets requests in flight finish. The same generator drives every server.
/// </summary>
public static class LoadGenerator
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Runs the load against loopback <see cref="LoadOptions.Port"/> and returns what it measured.</summary>
    public static LoadResult Run(LoadOptions options, Action<LoadProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Connections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MessageSize, 1);
        int threadCount = Math.Clamp(options.Threads, 1, options.Connections);
        var run = new LoadRun();
        var threads = new ClientThread[threadCount];
        try
        {
            for (int i = 0; i < threadCount; i++)
            {
                int share = options.Connections / threadCount + (i < options.Connections % threadCount ? 1 : 0);
                threads[i] = new ClientThread(run, i, share, options.MessageSize, options.Port);
            }
            foreach (ClientThread thread in threads)
                thread.Start();

            Phase(threads, options.Warmup, warmingUp: true, progress, 0);
            // Measured requests are the recorded ones, counted by the threads under the same flag
            // as the latencies, so the count and the histogram can never disagree.
            long start = Stopwatch.GetTimestamp();
            run.Recording = true;
            Phase(threads, options.Duration, warmingUp: false, progress, Completed(threads));
            run.Recording = false;
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long errors = 0;
            foreach (ClientThread thread in threads)
                errors += thread.Errors;
            run.Stop(TimeSpan.FromSeconds(2));
            foreach (ClientThread thread in threads)
                thread.Join();

            var latency = new LatencyHistogram();
            foreach (ClientThread thread in threads)
                latency.Add(thread.Latency);
            return new LoadResult(latency.Count, seconds, latency, errors);
        }
        finally
        {
            // Threads still running (an exception mid-run) are stopped before their buffers are freed.
            run.Stop(TimeSpan.Zero);
            foreach (ClientThread? thread in threads)
            {
                thread?.Join();
                thread?.Dispose();
            }
        }
    }

    private static void Phase(ClientThread[] threads, TimeSpan length, bool warmingUp, Action<LoadProgress>? progress, long baseCount)
    {
        long start = Stopwatch.GetTimestamp();
        long lastCount = Completed(threads);
        long lastTime = start;
        while (true)
        {
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
            TimeSpan left = length - elapsed;
            if (left <= TimeSpan.Zero)
                return;
            Thread.Sleep(left < ProgressInterval ? left : ProgressInterval);
            long now = Stopwatch.GetTimestamp();
            long count = Completed(threads);
            double rate = (count - lastCount) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
            progress?.Invoke(new LoadProgress(warmingUp, Stopwatch.GetElapsedTime(start, now).TotalSeconds, warmingUp ? 0 : count - baseCount, rate));
            lastCount = count;
            lastTime = now;
        }
    }

    private static long Completed(ClientThread[] threads)
    {
        long total = 0;
        foreach (ClientThread thread in threads)
            total += thread.Completed;
        return total;
    }
}
