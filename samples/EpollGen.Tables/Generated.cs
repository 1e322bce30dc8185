using System;
using System.Reflection;

namespace EpollGen.Tables;

/// <summary>
/// Reflection over generated members, failing with the type and member named when the generator's
/// output no longer has the shape this tool expects.
/// </summary>
internal static class Generated
{
    private const BindingFlags PublicStatic = BindingFlags.Public | BindingFlags.Static;

    /// <summary>A constant, static field or static property of <paramref name="type"/>, or null when absent.</summary>
    public static object? ValueOrNull(Type type, string name) =>
        type.GetField(name, PublicStatic)?.GetValue(null) ?? type.GetProperty(name, PublicStatic)?.GetValue(null);

    public static object Value(Type type, string name) =>
        ValueOrNull(type, name) ?? throw Missing(type, name);

    public static Type Nested(Type type, string name) =>
        type.GetNestedType(name, BindingFlags.Public) ?? throw Missing(type, name);

    public static Type? NestedOrNull(Type type, string name) => type.GetNestedType(name, BindingFlags.Public);

    /// <summary>Calls the public static <paramref name="name"/> whose parameters have exactly the arguments' types.</summary>
    public static object? Call(Type type, string name, params object[] arguments)
    {
        Type[] parameters = Array.ConvertAll(arguments, a => a.GetType());
        MethodInfo method = type.GetMethod(name, PublicStatic, parameters)
            ?? throw Missing(type, $"{name}({string.Join(", ", Array.ConvertAll(parameters, p => p.Name))})");
        try
        {
            return method.Invoke(null, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            // Report what the generated code threw, not the reflection wrapper.
            throw e.InnerException;
        }
    }

    private static InvalidOperationException Missing(Type type, string member) =>
        new($"{type.FullName} has no generated public static {member}; was it generated?");
}
