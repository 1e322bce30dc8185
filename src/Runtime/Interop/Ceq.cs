namespace EpollGen.Interop;

/// <summary>
/// Akaros's <c>struct ceq</c> (final 72-byte layout): the event array, the ring of dirty ids, the
/// overflow and recovery state and the producer/consumer indexes. Akaros's <c>atomic_t</c> fields
/// are 64-bit integers here.
/// </summary>
[NativeStruct("ceq", Size = 72)]
[NativeField("events", "struct ceq_event *")]
[NativeField("nr_events", "unsigned int")]
[NativeField("last_recovered", "unsigned int")]
[NativeField("max_event_ever", "int64_t")]
[NativeField("ring", "uint64_t *")]
[NativeField("ring_sz", "uint32_t")]
[NativeField("operation", "uint8_t")]
[NativeField("ring_overflowed", "bool")]
[NativeField("overflow_recovery", "bool")]
[NativeField("prod_idx", "int64_t")]
[NativeField("cons_pub_idx", "int64_t")]
[NativeField("cons_pvt_idx", "int64_t")]
[NativeField("u_lock", "uint32_t[2]")]
public partial struct Ceq;
