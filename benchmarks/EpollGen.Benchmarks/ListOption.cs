using System;
using System.CommandLine;
using System.CommandLine.Parsing;

namespace EpollGen.Benchmarks;

/// <summary>
/// An option whose value is a comma-separated list (<c>--pairs 100,1000,9900</c>). Help gives its
/// default in that form; a <c>DefaultValueFactory</c> would show it as <c>100|1000|9900</c>, which
/// is no way to type it, so the default is applied by <see cref="Get"/> instead.
/// </summary>
internal sealed class ListOption<T> : Option<T[]>
{
    private readonly T[] _fallback;

    /// <summary>An option named <paramref name="name"/> whose <paramref name="parse"/> reads the whole
    /// list or reports an error on the result and returns null; absent, it is <paramref name="fallback"/>.</summary>
    public ListOption(string name, string description, T[] fallback, Func<ArgumentResult, T[]?> parse)
        : base(name)
    {
        _fallback = fallback;
        Description = $"{description} (default: {string.Join(",", fallback)})";
        CustomParser = r => parse(r) ?? [];
    }

    /// <summary>The list given, or the default; a given list is never empty (the parser refuses that).</summary>
    public T[] Get(ParseResult result) => result.GetValue(this) is { Length: > 0 } given ? given : _fallback;
}
