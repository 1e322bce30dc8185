namespace EpollGen.Echo.Report;

/// <summary>One server's measurement in one round.</summary>
public sealed record Row(
    int Round, string Server, int Connections, int Size, double RequestsPerSecond,
    double P50, double P99, double P999, long Errors, string Backend, CeqSnapshot? Ceq);
