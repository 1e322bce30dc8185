using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EpollGen.Generators;
using Microsoft.CodeAnalysis;

namespace EpollGen.Analyzers.Epoll;

/// <summary>
/// What the runtime says about the flags of one event enum: <c>[EpollFlag]</c> on its members and
/// <c>[FlagUnsupported]</c> on the flag maps, in its assembly, that translate from it. Read once per
/// enum per compilation, never kept across compilations.
/// </summary>
internal sealed class EpollFlagFacts
{
    private readonly List<(ulong Bit, string Name)> _members = new();

    private EpollFlagFacts()
    {
    }

    /// <summary>The edge-triggered flag, or null when the enum has none.</summary>
    public (ulong Bit, string Name)? EdgeTriggered { get; private set; }

    /// <summary>Flags that disarm after one event.</summary>
    public ulong OneShot { get; private set; }

    /// <summary>Flags with constraints on where they may be used.</summary>
    public List<ConstrainedFlag> Constrained { get; } = new();

    /// <summary>Flags the runtime cannot honour, with the reason its flag map gives.</summary>
    public List<(ulong Bit, string Name, string Reason)> Unsupported { get; } = new();

    public static EpollFlagFacts Read(INamedTypeSymbol enumType, INamedTypeSymbol flagAttribute)
    {
        var facts = new EpollFlagFacts();
        foreach (IFieldSymbol field in enumType.GetMembers().OfType<IFieldSymbol>())
        {
            if (!field.HasConstantValue || ToBits(field.ConstantValue) is not { } bit)
                continue;
            if (bit != 0 && (bit & (bit - 1)) == 0)
                facts._members.Add((bit, field.Name));
            foreach (AttributeData attribute in field.GetAttributes())
            {
                if (!SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, flagAttribute))
                    continue;
                bool addOnly = false, notOnSets = false;
                ulong? compatible = null;
                foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
                {
                    bool on = named.Value.Value is true;
                    switch (named.Key)
                    {
                        case "EdgeTriggered" when on:
                            facts.EdgeTriggered = (bit, field.Name);
                            break;
                        case "OneShot" when on:
                            facts.OneShot |= bit;
                            break;
                        case "AddOnly":
                            addOnly = on;
                            break;
                        case "NotOnEpollSets":
                            notOnSets = on;
                            break;
                        case "CompatibleWith":
                            compatible = ToBits(named.Value.Value);
                            break;
                    }
                }
                if (addOnly || notOnSets || compatible is not null)
                    facts.Constrained.Add(new ConstrainedFlag(bit, field.Name, addOnly, notOnSets, compatible));
            }
        }
        facts._members.Sort((a, b) => a.Bit.CompareTo(b.Bit));
        facts.ReadUnsupported(enumType);
        return facts;
    }

    /// <summary>The mask in C spelling, lowest bit first (<c>EPOLLIN | EPOLLOUT</c>); unnamed bits in hex.</summary>
    public string Format(ulong mask)
    {
        var parts = new List<string>();
        foreach ((ulong bit, string name) in _members)
        {
            if ((mask & bit) != 0)
            {
                parts.Add(name);
                mask &= ~bit;
            }
        }
        if (mask != 0)
            parts.Add("0x" + mask.ToString("X", CultureInfo.InvariantCulture));
        return parts.Count == 0 ? "0" : string.Join(" | ", parts);
    }

    /// <summary>An enum constant (or any integer constant) as its bits, or null.</summary>
    public static ulong? ToBits(object? value) => value switch
    {
        byte v => v,
        sbyte v => unchecked((ulong)v),
        short v => unchecked((ulong)v),
        ushort v => v,
        int v => unchecked((uint)v),
        uint v => v,
        long v => unchecked((ulong)v),
        ulong v => v,
        _ => null,
    };

    // Flag maps live beside the enum (the runtime's EpollTapMap beside EpollEvents): the enum's
    // assembly is searched, once, for [FlagMap(typeof(ThisEnum), ...)] types.
    private void ReadUnsupported(INamedTypeSymbol enumType)
    {
        var pending = new Stack<INamespaceOrTypeSymbol>();
        pending.Push(enumType.ContainingAssembly.GlobalNamespace);
        while (pending.Count > 0)
        {
            INamespaceOrTypeSymbol container = pending.Pop();
            foreach (ISymbol member in container.GetMembers())
            {
                if (member is INamespaceSymbol ns)
                {
                    pending.Push(ns);
                    continue;
                }
                if (member is not INamedTypeSymbol type)
                    continue;
                if (type.GetTypeMembers().Length > 0)
                    pending.Push(type);
                AddUnsupportedOf(type, enumType);
            }
        }
    }

    private void AddUnsupportedOf(INamedTypeSymbol type, INamedTypeSymbol enumType)
    {
        System.Collections.Immutable.ImmutableArray<AttributeData> attributes = type.GetAttributes();
        if (!attributes.Any(a => SpecNames.Is(a, "FlagMapAttribute")
                && a.ConstructorArguments.Length >= 1
                && SymbolEqualityComparer.Default.Equals(a.ConstructorArguments[0].Value as ITypeSymbol, enumType)))
            return;
        foreach (AttributeData attribute in attributes)
        {
            if (!SpecNames.Is(attribute, SpecNames.FlagUnsupportedAttribute)
                || attribute.ConstructorArguments.Length != 2
                || ToBits(attribute.ConstructorArguments[0].Value) is not { } bit
                || attribute.ConstructorArguments[1].Value is not string reason)
                continue;
            if (Unsupported.All(u => u.Bit != bit))
                Unsupported.Add((bit, Format(bit), reason));
        }
    }
}

/// <summary>A flag with <c>[EpollFlag(AddOnly, NotOnEpollSets, CompatibleWith)]</c> constraints.</summary>
internal sealed record ConstrainedFlag(ulong Bit, string Name, bool AddOnly, bool NotOnEpollSets, ulong? CompatibleWith);
