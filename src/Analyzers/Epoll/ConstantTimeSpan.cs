using System;
using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace EpollGen.Analyzers.Epoll;

/// <summary>
/// The value, in ticks, of a <c>TimeSpan</c> expression built only from constants:
/// <c>TimeSpan.From*(constants)</c>, <c>new TimeSpan(constants)</c>, <c>TimeSpan.Zero</c>,
/// <c>MinValue</c>, <c>MaxValue</c>, <c>Timeout.InfiniteTimeSpan</c>, <c>default</c> and their
/// negation. Anything else, or a value the runtime would reject as out of range, is unknown (null).
/// </summary>
internal static class ConstantTimeSpan
{
    /// <summary>Timeout.InfiniteTimeSpan: -1 ms.</summary>
    public const long InfiniteTicks = -TicksPerMillisecond;

    private const long TicksPerMicrosecond = 10;
    private const long TicksPerMillisecond = 10_000;
    private const long TicksPerSecond = 10_000_000;
    private const long TicksPerMinute = 600_000_000;
    private const long TicksPerHour = 36_000_000_000;
    private const long TicksPerDay = 864_000_000_000;

    public static long? Ticks(IOperation operation)
    {
        while (operation is IParenthesizedOperation { Operand: { } inner })
            operation = inner;
        switch (operation)
        {
            case IDefaultValueOperation when IsTimeSpan(operation.Type):
                return 0;
            case IFieldReferenceOperation { Field: { IsStatic: true } field }:
                return Field(field);
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Minus, Operand: { } operand } when IsTimeSpan(operation.Type):
                // -MinValue overflows, and the runtime throws for it.
                return Ticks(operand) is { } ticks && ticks != long.MinValue ? -ticks : null;
            case IUnaryOperation { OperatorKind: UnaryOperatorKind.Plus, Operand: { } operand } when IsTimeSpan(operation.Type):
                return Ticks(operand);
            case IInvocationOperation { TargetMethod: { IsStatic: true } method } invocation
                when IsTimeSpan(method.ContainingType) && method.Name.StartsWith("From", StringComparison.Ordinal):
                return Sum(invocation.Arguments, UnitOf(method.Name.Substring("From".Length)));
            case IObjectCreationOperation creation when IsTimeSpan(creation.Type):
                return Sum(creation.Arguments, null);
            default:
                return null;
        }
    }

    private static long? Field(IFieldSymbol field)
    {
        if (IsTimeSpan(field.ContainingType))
        {
            return field.Name switch
            {
                "Zero" => 0,
                "MinValue" => long.MinValue,
                "MaxValue" => long.MaxValue,
                _ => null,
            };
        }
        return field is { Name: "InfiniteTimeSpan", ContainingType: { Name: "Timeout", ContainingNamespace: { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } } }
            ? InfiniteTicks
            : null;
    }

    // Each argument in its parameter's unit (days, hours, ..., ticks); a parameter named `value`
    // (FromSeconds(double value), FromTicks(long value)) is in the method's own unit.
    private static long? Sum(ImmutableArray<IArgumentOperation> arguments, long? methodUnit)
    {
        decimal total = 0;
        foreach (IArgumentOperation argument in arguments)
        {
            if (argument.Parameter is not { } parameter
                || (parameter.Name == "value" ? methodUnit : UnitOf(parameter.Name)) is not { } unit
                || argument.Value.ConstantValue is not { HasValue: true, Value: { } value })
                return null;
            switch (value)
            {
                case int or long:
                    total += Convert.ToInt64(value, CultureInfo.InvariantCulture) * (decimal)unit;
                    break;
                case double fraction when arguments.Length == 1:
                    // The runtime turns value * unit into whole ticks. Whether it truncates or rounds,
                    // a value whose two readings differ is left unjudged, as is one out of range.
                    double ticks = fraction * unit;
                    if (double.IsNaN(ticks) || ticks >= long.MaxValue || ticks <= long.MinValue
                        || Math.Truncate(ticks) != Math.Round(ticks, MidpointRounding.AwayFromZero))
                        return null;
                    return (long)ticks;
                default:
                    return null;
            }
        }
        return total >= long.MinValue && total <= long.MaxValue ? (long)total : null;
    }

    private static long? UnitOf(string name) => name switch
    {
        "days" or "Days" => TicksPerDay,
        "hours" or "Hours" => TicksPerHour,
        "minutes" or "Minutes" => TicksPerMinute,
        "seconds" or "Seconds" => TicksPerSecond,
        "milliseconds" or "Milliseconds" => TicksPerMillisecond,
        "microseconds" or "Microseconds" => TicksPerMicrosecond,
        "ticks" or "Ticks" => 1,
        _ => null,
    };

    private static bool IsTimeSpan(ITypeSymbol? type) =>
        type is { Name: "TimeSpan", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } };
}
