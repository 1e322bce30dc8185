namespace EpollGen.IntegrationTests.Packed;

/// <summary>
/// A made-up packed wire header: every field unaligned, so a layout that pads anywhere shows.
/// </summary>
[NativeStruct("wire_header", Packing = NativePacking.Packed, Size = 19)]
[NativeField("kind", "uint8_t")]
[NativeField("length", "uint32_t")]
[NativeField("port", "uint16_t")]
[NativeField("stamp", "uint64_t")]
[NativeField("flags", "uint8_t[2]")]
[NativeField("tail", "int16_t")]
[NativeField("payload", "unsigned char[]")]
public partial struct WireHeader;
