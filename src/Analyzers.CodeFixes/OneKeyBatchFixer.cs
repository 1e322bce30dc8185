using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;

namespace EpollGen.Analyzers.CodeFixes;

/// <summary>
/// Roslyn's batch fixer for a code fix whose actions all share one equivalence key, which it uses
/// when the caller names none. dotnet format takes the key from the first diagnostic it was asked to
/// fix, of any rule; when that diagnostic is another rule's, this fixer offers nothing for it, the
/// key is null, and the batch fixer, matching actions by key, would find none and return no Fix All.
/// </summary>
internal sealed class OneKeyBatchFixer : FixAllProvider
{
    private readonly string _equivalenceKey;

    public OneKeyBatchFixer(string equivalenceKey) => _equivalenceKey = equivalenceKey;

    /// <inheritdoc/>
    public override IEnumerable<FixAllScope> GetSupportedFixAllScopes() => WellKnownFixAllProviders.BatchFixer.GetSupportedFixAllScopes();

    /// <inheritdoc/>
    public override Task<CodeAction?> GetFixAsync(FixAllContext fixAllContext)
    {
        if (fixAllContext.CodeActionEquivalenceKey is null)
            fixAllContext = WithKey(fixAllContext, _equivalenceKey);
        return WellKnownFixAllProviders.BatchFixer.GetFixAsync(fixAllContext);
    }

    // FixAllContext has no public way to change only its key: the copy asks the original for diagnostics.
    private static FixAllContext WithKey(FixAllContext context, string key)
    {
        var diagnostics = new FromContext(context);
        return context.Document is { } document
            ? new FixAllContext(document, context.CodeFixProvider, context.Scope, key, context.DiagnosticIds, diagnostics, context.CancellationToken)
            : new FixAllContext(context.Project, context.CodeFixProvider, context.Scope, key, context.DiagnosticIds, diagnostics, context.CancellationToken);
    }

    private sealed class FromContext : FixAllContext.DiagnosticProvider
    {
        private readonly FixAllContext _context;

        public FromContext(FixAllContext context) => _context = context;

        public override async Task<IEnumerable<Diagnostic>> GetAllDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            await _context.GetAllDiagnosticsAsync(project).ConfigureAwait(false);

        public override async Task<IEnumerable<Diagnostic>> GetDocumentDiagnosticsAsync(Document document, CancellationToken cancellationToken) =>
            await _context.GetDocumentDiagnosticsAsync(document).ConfigureAwait(false);

        public override async Task<IEnumerable<Diagnostic>> GetProjectDiagnosticsAsync(Project project, CancellationToken cancellationToken) =>
            await _context.GetProjectDiagnosticsAsync(project).ConfigureAwait(false);
    }
}
