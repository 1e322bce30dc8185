namespace EpollGen.Generators.Common;

/// <summary>The <c>[GeneratedCode]</c> attribute every generated type carries.</summary>
internal static class GeneratedCode
{
    public static readonly string Version =
        typeof(GeneratedCode).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

    public static readonly string Attribute =
        "[global::System.CodeDom.Compiler.GeneratedCode(\"EpollGen.Generators\", \"" + Version + "\")]";
}
