using System;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace EpollGen.AspNetCore.Native;

/// <summary>IPEndPoint to and from struct sockaddr_in and sockaddr_in6.</summary>
internal static class SocketAddressCodec
{
    /// <summary>sizeof(struct sockaddr_in6), the larger of the two.</summary>
    public const int MaxLength = 28;

    private const int InLength = 16;

    /// <summary>Writes <paramref name="endPoint"/> as a sockaddr into <paramref name="address"/> (cleared first) and returns its length.</summary>
    public static int Write(IPEndPoint endPoint, Span<byte> address)
    {
        address.Clear();
        // sa_family is host order, sin_port network order; sin6_flowinfo stays 0.
        BinaryPrimitives.WriteUInt16BigEndian(address[2..], (ushort)endPoint.Port);
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            BitConverter.TryWriteBytes(address, (ushort)SocketCalls.AF_INET);
            endPoint.Address.TryWriteBytes(address.Slice(4, 4), out _);
            return InLength;
        }
        BitConverter.TryWriteBytes(address, (ushort)SocketCalls.AF_INET6);
        endPoint.Address.TryWriteBytes(address.Slice(8, 16), out _);
        BitConverter.TryWriteBytes(address[24..], (uint)endPoint.Address.ScopeId);
        return MaxLength;
    }

    /// <summary>The endpoint a sockaddr_in or sockaddr_in6 names; null for another family.</summary>
    public static IPEndPoint? Read(ReadOnlySpan<byte> address)
    {
        if (address.Length < InLength)
            return null;
        int family = BitConverter.ToUInt16(address);
        int port = BinaryPrimitives.ReadUInt16BigEndian(address[2..]);
        if (family == SocketCalls.AF_INET)
            return new IPEndPoint(new IPAddress(address.Slice(4, 4)), port);
        if (family == SocketCalls.AF_INET6 && address.Length >= MaxLength)
            return new IPEndPoint(new IPAddress(address.Slice(8, 16), BitConverter.ToUInt32(address[24..])), port);
        return null;
    }
}
