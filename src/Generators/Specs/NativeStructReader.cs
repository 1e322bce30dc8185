using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using EpollGen.Generators.Common;
using Microsoft.CodeAnalysis;

namespace EpollGen.Generators;

/// <summary>
/// Reads a <c>[NativeStruct]</c> spec and its <c>[NativeField]</c>s, computes the layouts and checks
/// them against the declared sizes. Shared by the generator and the analyzer; never throws.
/// </summary>
internal static class NativeStructReader
{
    /// <summary>Member names the generated code defines; a field may not take one.</summary>
    internal static readonly HashSet<string> ReservedNames = new()
    {
        "CDeclaration", "X64CDeclaration", "Size", "X64Size", "NativeSize", "IsX64Packed",
        "Offsets", "X64Offsets", "NativeOffsets", "X64Packed", "ReadNative", "WriteNative", "CheckLayout", "Mismatch",
    };

    // Whether the struct's own code already declares a member under the field's name. The
    // generated part, which the analyzer's compilation holds too, does not count.
    private static bool DeclaredByHand(INamedTypeSymbol type, string name) =>
        type.GetMembers(name).Any(member => member.Locations.Any(location =>
            location.IsInSource && !location.SourceTree!.FilePath.EndsWith(".NativeStruct.g.cs", StringComparison.Ordinal)));

    public static NativeStructSpec? Read(INamedTypeSymbol type, List<SpecError>? errors)
    {
        AttributeData? spec = type.GetAttributes().FirstOrDefault(a => SpecNames.Is(a, "NativeStructAttribute"));
        if (spec is null || spec.ConstructorArguments.Length != 1 || spec.ConstructorArguments[0].Value is not string cName)
            return null;

        bool valid = true;
        void Fail(SpecErrorKind kind, Location? location, params string[] arguments)
        {
            valid = false;
            errors?.Add(new SpecError(kind, location, arguments));
        }

        Location? specLocation = SpecNames.LocationOf(spec);
        TypeTarget? target = TypeTarget.From(type, out SpecErrorKind? targetError);
        if (targetError is { } te)
            Fail(te, type.Locations.FirstOrDefault(), type.Name);
        else if (type.TypeKind != TypeKind.Struct || type.IsReadOnly || type.IsRefLikeType)
            Fail(SpecErrorKind.NativeStructModifiers, type.Locations.FirstOrDefault(), type.Name);
        if (!CType.IsIdentifier(cName))
            Fail(SpecErrorKind.NativeNameInvalid, specLocation, cName);

        Packing packing = Packing.Natural;
        int? declaredSize = null, declaredX64Size = null;
        foreach (KeyValuePair<string, TypedConstant> named in spec.NamedArguments)
        {
            switch (named.Key, named.Value.Value)
            {
                case ("Packing", int p) when p is >= 0 and <= 2:
                    packing = (Packing)p;
                    break;
                case ("Size", int s):
                    declaredSize = s;
                    break;
                case ("X64Size", int s):
                    declaredX64Size = s;
                    break;
            }
        }

        var fields = new List<NativeField>();
        var seen = new HashSet<string>();
        int declared = 0;
        foreach (AttributeData attribute in type.GetAttributes())
        {
            if (!SpecNames.Is(attribute, SpecNames.NativeFieldAttribute) || attribute.ConstructorArguments.Length != 2)
                continue;
            declared++;
            Location? location = SpecNames.LocationOf(attribute);
            string? name = attribute.ConstructorArguments[0].Value as string;
            string? cType = attribute.ConstructorArguments[1].Value as string;
            string? overlays = attribute.NamedArguments.FirstOrDefault(n => n.Key == "Overlays").Value.Value as string;

            if (!CType.IsIdentifier(name) || ReservedNames.Contains(name!) || name == type.Name)
            {
                Fail(SpecErrorKind.NativeNameInvalid, location, name ?? "null");
                continue;
            }
            if (!seen.Add(name!) || DeclaredByHand(type, name!))
            {
                Fail(SpecErrorKind.NativeFieldDuplicate, location, name!, cName);
                continue;
            }
            if (CType.Parse(cType) is not { } parsed)
            {
                Fail(SpecErrorKind.NativeFieldTypeNotFixed, location, cType ?? "null", name!);
                continue;
            }
            var field = new NativeField(name!, cType!, parsed, overlays);
            if (fields.Count > 0 && fields[fields.Count - 1].IsFlexible)
                Fail(SpecErrorKind.NativeFlexibleArrayNotLast, location, fields[fields.Count - 1].Name, cName);
            if (overlays is not null && !OverlayFits(field, fields))
                Fail(SpecErrorKind.NativeOverlayInvalid, location, name!, overlays);
            fields.Add(field);
        }

        // Judged on the fields as declared, so a rejected field is not also reported as a missing one.
        if (declared == 0 || (fields.Count == declared && fields.All(f => f.IsFlexible)))
            Fail(SpecErrorKind.NativeStructEmpty, specLocation, cName);
        if (!valid || target is null)
            return null;

        NativeLayout primary = NativeLayoutCalculator.Compute(fields, packed: packing == Packing.Packed);
        NativeLayout? x64 = packing == Packing.PackedOnX64 ? NativeLayoutCalculator.Compute(fields, packed: true) : null;
        if (declaredSize is { } size && size != primary.Size)
            Fail(SpecErrorKind.NativeSizeMismatch, specLocation, cName, "Size", Text(size), Text(primary.Size));
        if (declaredX64Size is { } xs && xs != (x64 ?? primary).Size)
            Fail(SpecErrorKind.NativeSizeMismatch, specLocation, cName, "X64Size", Text(xs), Text((x64 ?? primary).Size));
        if (!valid)
            return null;
        return new NativeStructSpec(target, cName, packing, fields.ToEquatableArray(), primary, x64);
    }

    // An overlay is a union member: it shares an earlier, non-overlay, non-flexible field's storage
    // and must fit inside it without raising its alignment, so the union lays out as that field alone.
    private static bool OverlayFits(NativeField overlay, List<NativeField> earlier)
    {
        NativeField? host = earlier.FirstOrDefault(f => f.Name == overlay.Overlays);
        return host is { Overlays: null, IsFlexible: false }
            && !overlay.IsFlexible
            && overlay.Type.TotalSize <= host.Type.TotalSize
            && overlay.Type.Alignment <= host.Type.Alignment;
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
