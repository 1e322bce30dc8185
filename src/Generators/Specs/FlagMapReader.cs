using System.Collections.Generic;
using System.Linq;
using EpollGen.Generators.Common;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EpollGen.Generators;

/// <summary>
/// Reads a <c>[FlagMap]</c> spec from the type that carries it. Shared by the generator, which keeps
/// only the model, and the analyzer, which reports the errors. Never throws on malformed source: an
/// attribute the compiler could not bind is not read at all (the compiler already reports it).
/// </summary>
internal static class FlagMapReader
{
    public static FlagMapSpec? Read(INamedTypeSymbol type, List<SpecError>? errors)
    {
        AttributeData? map = type.GetAttributes().FirstOrDefault(a => SpecNames.Is(a, "FlagMapAttribute"));
        if (map is null || map.ConstructorArguments.Length != 2)
            return null;
        if (map.ConstructorArguments[0].Value is not INamedTypeSymbol sourceType
            || map.ConstructorArguments[1].Value is not INamedTypeSymbol destinationType)
            return null;

        bool valid = true;
        void Fail(SpecErrorKind kind, Location? location, params string[] arguments)
        {
            valid = false;
            errors?.Add(new SpecError(kind, location, arguments));
        }

        Location? mapLocation = SpecNames.LocationOf(map);
        TypeTarget? target = TypeTarget.From(type, out SpecErrorKind? targetError);
        if (targetError is { } te)
            Fail(te, type.Locations.FirstOrDefault(), type.Name);

        FlagEnum? source = ReadEnum(sourceType);
        FlagEnum? destination = ReadEnum(destinationType);
        if (source is null)
            Fail(SpecErrorKind.FlagEnumWithoutFlags, mapLocation, sourceType.ToDisplayString());
        if (destination is null)
            Fail(SpecErrorKind.FlagEnumWithoutFlags, mapLocation, destinationType.ToDisplayString());
        if (source is null || destination is null)
            return null;

        var pairs = new List<FlagPair>();
        var unsupported = new List<UnsupportedFlag>();
        ulong usedSource = 0, usedDestination = 0, modes = 0, alwaysReported = 0;

        // Claims a source bit for one role; a bit has at most one (pair, mode or unsupported).
        bool ClaimSource(ulong bit, Location? location)
        {
            if ((usedSource & bit) != 0)
            {
                Fail(SpecErrorKind.FlagOverlap, location, Spell(source, bit), source.Name);
                return false;
            }
            usedSource |= bit;
            return true;
        }

        foreach (AttributeData attribute in type.GetAttributes())
        {
            Location? location = SpecNames.LocationOf(attribute);
            if (SpecNames.Is(attribute, SpecNames.FlagPairAttribute) && attribute.ConstructorArguments.Length == 2)
            {
                ulong? s = ReadBit(attribute.ConstructorArguments[0], sourceType, source, location, Fail);
                ulong? d = ReadBit(attribute.ConstructorArguments[1], destinationType, destination, location, Fail);
                if (s is not { } sb || d is not { } db)
                    continue;
                if (!ClaimSource(sb, location))
                    continue;
                if ((usedDestination & db) != 0)
                {
                    Fail(SpecErrorKind.FlagOverlap, location, Spell(destination, db), destination.Name);
                    continue;
                }
                usedDestination |= db;
                pairs.Add(new FlagPair(sb, db));
            }
            else if (SpecNames.Is(attribute, SpecNames.FlagModeAttribute) && attribute.ConstructorArguments.Length == 1)
            {
                if (ReadBit(attribute.ConstructorArguments[0], sourceType, source, location, Fail) is { } bit
                    && ClaimSource(bit, location))
                    modes |= bit;
            }
            else if (SpecNames.Is(attribute, SpecNames.FlagUnsupportedAttribute) && attribute.ConstructorArguments.Length == 2)
            {
                if (ReadBit(attribute.ConstructorArguments[0], sourceType, source, location, Fail) is { } bit
                    && ClaimSource(bit, location))
                    unsupported.Add(new UnsupportedFlag(bit, attribute.ConstructorArguments[1].Value as string ?? ""));
            }
        }

        foreach (KeyValuePair<string, TypedConstant> named in map.NamedArguments)
        {
            if (named.Key != "AlwaysReported")
                continue;
            if (ReadValue(named.Value, sourceType) is not { } value || (value & ~source.Known) != 0)
            {
                Fail(SpecErrorKind.FlagValueNotMember, mapLocation, named.Value.ToCSharpString(), source.Name);
                continue;
            }
            ulong mapped = pairs.Aggregate(0UL, (m, p) => m | p.Source);
            if ((value & ~mapped) != 0)
                Fail(SpecErrorKind.FlagAlwaysReportedNotMapped, mapLocation, Spell(source, value & ~mapped));
            alwaysReported = value;
        }

        if (!valid || target is null)
            return null;
        return new FlagMapSpec(
            target,
            source,
            destination,
            pairs.OrderBy(p => p.Source).ToEquatableArray(),
            modes,
            unsupported.OrderBy(u => u.Bit).ToEquatableArray(),
            alwaysReported);
    }

    private static FlagEnum? ReadEnum(INamedTypeSymbol type)
    {
        if (type.TypeKind != TypeKind.Enum || type.EnumUnderlyingType is not { } underlying)
            return null;
        bool hasFlags = type.GetAttributes().Any(a =>
            a.AttributeClass is { Name: "FlagsAttribute", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } });
        if (!hasFlags)
            return null;
        int bits = underlying.SpecialType switch
        {
            SpecialType.System_Byte or SpecialType.System_SByte => 8,
            SpecialType.System_Int16 or SpecialType.System_UInt16 => 16,
            SpecialType.System_Int32 or SpecialType.System_UInt32 => 32,
            _ => 64,
        };
        var members = new List<FlagMember>();
        foreach (ISymbol member in type.GetMembers())
        {
            if (member is IFieldSymbol { HasConstantValue: true, ConstantValue: { } value } field
                && ToBits(value, bits) is { } v)
                members.Add(new FlagMember(field.Name, v));
        }
        string name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        return new FlagEnum(name, type.Name, bits, members.ToEquatableArray());
    }

    private delegate void FailAction(SpecErrorKind kind, Location? location, params string[] arguments);

    // A pair, mode or unsupported entry must be exactly one declared single-bit member of its enum.
    private static ulong? ReadBit(TypedConstant constant, INamedTypeSymbol enumType, FlagEnum flags, Location? location, FailAction fail)
    {
        ulong? value = ReadValue(constant, enumType);
        if (value is not { } v || !flags.Members.Any(m => m.Value == v))
        {
            fail(SpecErrorKind.FlagValueNotMember, location, constant.IsNull ? "null" : constant.ToCSharpString(), flags.Name);
            return null;
        }
        if (v == 0 || (v & (v - 1)) != 0)
        {
            fail(SpecErrorKind.FlagValueNotSingleBit, location, constant.ToCSharpString());
            return null;
        }
        return v;
    }

    private static ulong? ReadValue(TypedConstant constant, INamedTypeSymbol enumType)
    {
        if (constant.Kind != TypedConstantKind.Enum
            || !SymbolEqualityComparer.Default.Equals(constant.Type, enumType)
            || constant.Value is null)
            return null;
        int bits = enumType.EnumUnderlyingType?.SpecialType switch
        {
            SpecialType.System_Byte or SpecialType.System_SByte => 8,
            SpecialType.System_Int16 or SpecialType.System_UInt16 => 16,
            SpecialType.System_Int32 or SpecialType.System_UInt32 => 32,
            _ => 64,
        };
        return ToBits(constant.Value, bits);
    }

    /// <summary>The raw bits of an enum constant, zero-extended from its width.</summary>
    internal static ulong? ToBits(object value, int bits)
    {
        ulong raw = value switch
        {
            byte b => b,
            sbyte sb => unchecked((byte)sb),
            short s => unchecked((ushort)s),
            ushort us => us,
            int i => unchecked((uint)i),
            uint ui => ui,
            long l => unchecked((ulong)l),
            ulong ul => ul,
            _ => ulong.MaxValue,
        };
        if (raw == ulong.MaxValue && value is not (long or ulong))
            return null;
        return bits == 64 ? raw : raw & ((1UL << bits) - 1);
    }

    // C spelling of bits for messages: the member names, or hex for unnamed bits.
    internal static string Spell(FlagEnum flags, ulong bits)
    {
        var parts = new List<string>();
        for (int i = 0; i < 64; i++)
        {
            ulong bit = 1UL << i;
            if ((bits & bit) == 0)
                continue;
            FlagMember? named = flags.Members.Where(m => m.Value == bit).Select(m => (FlagMember?)m).FirstOrDefault();
            parts.Add(named?.Name ?? "0x" + bit.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
        return parts.Count == 0 ? "0" : string.Join("|", parts);
    }
}
