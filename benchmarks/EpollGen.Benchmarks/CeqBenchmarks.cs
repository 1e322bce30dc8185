using System;
using System.Threading;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using EpollGen.Events;

namespace EpollGen.Benchmarks;

/// <summary>
/// Post+drain throughput of the CEQ against an unbounded <see cref="Channel"/>: per invocation the
/// producers post <see cref="Events"/> events in total to ids drawn from 1024, while the benchmark
/// thread, the one consumer, drains until everything posted has been consumed.
/// </summary>
/// <remarks>
/// The producer threads live from <c>[GlobalSetup]</c> to <c>[GlobalCleanup]</c>; each invocation
/// releases them through a <see cref="Barrier"/> and ends once the consumer has taken every post, so
/// thread creation is outside the measured region, and one barrier wake-up per 10^6 events is
/// inside it. The id sequences are precomputed, so no random numbers are drawn while measuring.
/// Events are counted as posts accepted and drained: the CEQ coalesces, so it hands the consumer
/// fewer messages than posts. ADD makes the count exact (the drained sum equals the posts); the
/// messages it delivered are printed at cleanup.
/// </remarks>
public class CeqBenchmarks
{
    /// <summary>Events posted per invocation, over all producers.</summary>
    public const int Events = 1_000_000;

    private const int IdCount = 1024;

    private enum Mode
    {
        Channel,
        CeqAdd,
        CeqOr,
    }

    private Mode _mode;
    private Thread[] _producers = [];
    private Barrier _start = null!;
    private int[][] _sequences = [];
    private volatile bool _stopping;
    private int _producersDone;
    private Channel<int> _channel = null!;
    private CoalescingEventQueue _queue = null!;
    private CeqId[] _ids = [];
    private long _messages;
    private long _invocations;

    /// <summary>Producer threads.</summary>
    [Params(1, 2)]
    public int Producers { get; set; }

    [GlobalSetup(Target = nameof(Channel))]
    public void SetupChannel() => Setup(Mode.Channel);

    [GlobalSetup(Target = nameof(CeqAdd))]
    public void SetupCeqAdd() => Setup(Mode.CeqAdd);

    [GlobalSetup(Target = nameof(CeqOr))]
    public void SetupCeqOr() => Setup(Mode.CeqOr);

    [GlobalCleanup]
    public void Cleanup()
    {
        _stopping = true;
        _start.SignalAndWait();
        foreach (Thread producer in _producers)
            producer.Join();
        _start.Dispose();
        _queue?.Dispose();
        if (_mode != Mode.Channel && _invocations > 0)
            Console.WriteLine($"// CEQ {_mode}, {Producers} producer(s): {_messages / _invocations:N0} messages delivered per {Events:N0} posts");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Events, Description = "Channel.CreateUnbounded<int>")]
    public long Channel()
    {
        ChannelReader<int> reader = _channel.Reader;
        Release();
        long consumed = 0;
        var spinner = default(SpinWait);
        while (consumed < Events)
        {
            if (reader.TryRead(out _))
            {
                consumed++;
                continue;
            }
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        return consumed;
    }

    [Benchmark(OperationsPerInvoke = Events, Description = "CEQ, ADD")]
    public long CeqAdd()
    {
        Release();
        Span<CeqMessage> batch = stackalloc CeqMessage[256];
        long drained = 0;
        long messages = 0;
        var spinner = default(SpinWait);
        while (drained < Events)
        {
            int n = _queue.TryTake(batch);
            if (n == 0)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            messages += n;
            for (int i = 0; i < n; i++)
                drained += batch[i].Bits;
        }
        _messages += messages;
        _invocations++;
        return drained;
    }

    [Benchmark(OperationsPerInvoke = Events, Description = "CEQ, OR")]
    public long CeqOr()
    {
        Release();
        Span<CeqMessage> batch = stackalloc CeqMessage[256];
        long messages = 0;
        var spinner = default(SpinWait);
        while (true)
        {
            // Read before the pass: producers done then, and this only consumer finding nothing, means drained.
            bool done = Volatile.Read(ref _producersDone) == Producers;
            int n = _queue.TryTake(batch);
            messages += n;
            if (n == 0)
            {
                if (done && _queue.IsEmpty)
                    break;
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
        _messages += messages;
        _invocations++;
        return messages;
    }

    private void Setup(Mode mode)
    {
        _mode = mode;
        _channel = System.Threading.Channels.Channel.CreateUnbounded<int>();
        if (mode != Mode.Channel)
        {
            _queue = new CoalescingEventQueue(mode == Mode.CeqAdd ? CeqOperation.Add : CeqOperation.Or);
            _ids = new CeqId[IdCount];
            for (int i = 0; i < IdCount; i++)
                _ids[i] = _queue.Allocate((ulong)i);
        }

        var random = new Random(20261125);
        _sequences = new int[Producers][];
        for (int p = 0; p < Producers; p++)
        {
            _sequences[p] = new int[Events / Producers + (p < Events % Producers ? 1 : 0)];
            for (int i = 0; i < _sequences[p].Length; i++)
                _sequences[p][i] = random.Next(IdCount);
        }

        _start = new Barrier(Producers + 1);
        _producers = new Thread[Producers];
        for (int p = 0; p < Producers; p++)
        {
            int index = p;
            _producers[p] = new Thread(() => Produce(index)) { IsBackground = true, Name = $"ceq-bench-producer-{p}" };
            _producers[p].Start();
        }
    }

    private void Release()
    {
        Volatile.Write(ref _producersDone, 0);
        _start.SignalAndWait();
    }

    private void Produce(int index)
    {
        int[] sequence = _sequences[index];
        while (true)
        {
            _start.SignalAndWait();
            if (_stopping)
                return;
            if (_mode == Mode.Channel)
            {
                ChannelWriter<int> writer = _channel.Writer;
                foreach (int id in sequence)
                    writer.TryWrite(id);
            }
            else
            {
                CoalescingEventQueue queue = _queue;
                CeqId[] ids = _ids;
                foreach (int id in sequence)
                    queue.Post(ids[id], 1);
            }
            Interlocked.Increment(ref _producersDone);
        }
    }
}
