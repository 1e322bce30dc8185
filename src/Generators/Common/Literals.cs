using System.Globalization;

namespace EpollGen.Generators.Common;

/// <summary>Invariant-culture spellings of numbers and strings in generated code.</summary>
internal static class Literals
{
    /// <summary><c>0x00002000u</c> for 32-bit or narrower work, <c>0x0000000000002000UL</c> for 64-bit.</summary>
    public static string Hex(ulong value, int bits) => bits <= 32
        ? "0x" + value.ToString("X8", CultureInfo.InvariantCulture) + "u"
        : "0x" + value.ToString("X16", CultureInfo.InvariantCulture) + "UL";

    /// <summary>An enum constant from raw bits, valid for signed and unsigned underlying types.</summary>
    public static string EnumConstant(string enumType, ulong value, int bits) =>
        "unchecked((" + enumType + ")" + Hex(value, bits) + ")";

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A C# string literal; regular escapes only, so it reads the same in any C# version.</summary>
    public static string String(string value)
    {
        var text = new System.Text.StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                default:
                    if (c < ' ' || c > '~')
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        text.Append(c);
                    break;
            }
        }
        return text.Append('"').ToString();
    }

    /// <summary>The unsigned C# type of a width: <c>byte</c>, <c>ushort</c>, <c>uint</c>, <c>ulong</c>.</summary>
    public static string Unsigned(int bits) => bits switch { 8 => "byte", 16 => "ushort", 32 => "uint", _ => "ulong" };
}
