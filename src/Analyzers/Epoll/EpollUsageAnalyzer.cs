using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace EpollGen.Analyzers.Epoll;

/// <summary>
/// EPG0100–EPG0106: calls of EpollGen's epoll API whose constant arguments are level-triggered,
/// unsupported or invalid. Which parameter means what comes from <c>[EpollArgument]</c> on the API,
/// which flag means what from <c>[EpollFlag]</c> on the enum and <c>[FlagUnsupported]</c> on its flag
/// map. Only constants are judged, and only on calls to methods that carry those attributes.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class EpollUsageAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Diagnostic property: the enum member a code fix adds or removes.</summary>
    public const string FlagProperty = "EpollGen.Flag";

    private const string ArgumentAttributeName = "EpollGen.EpollArgumentAttribute";
    private const string FlagAttributeName = "EpollGen.EpollFlagAttribute";
    private const string ControlOpName = "EpollGen.EpollControlOp";

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticDescriptors.AllUsage;

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            // Without EpollGen's API in sight there is nothing to judge.
            if (start.Compilation.GetTypeByMetadataName(ArgumentAttributeName) is not { } argumentAttribute
                || start.Compilation.GetTypeByMetadataName(FlagAttributeName) is not { } flagAttribute
                || start.Compilation.GetTypeByMetadataName(ControlOpName) is not { TypeKind: TypeKind.Enum } controlOp)
                return;
            var state = new CompilationState(argumentAttribute, flagAttribute, controlOp);
            start.RegisterOperationAction(state.AnalyzeInvocation, OperationKind.Invocation);
        });
    }

    /// <summary>Per-compilation caches; dropped with the compilation.</summary>
    private sealed class CompilationState
    {
        private readonly INamedTypeSymbol _argumentAttribute;
        private readonly INamedTypeSymbol _flagAttribute;
        private readonly ulong? _add;
        private readonly ulong? _delete;
        private readonly ulong? _modify;
        private readonly HashSet<ulong> _operations = new();
        private readonly ConcurrentDictionary<IMethodSymbol, ImmutableArray<Role>> _roles = new(SymbolEqualityComparer.Default);
        private readonly ConcurrentDictionary<INamedTypeSymbol, EpollFlagFacts> _facts = new(SymbolEqualityComparer.Default);

        public CompilationState(INamedTypeSymbol argumentAttribute, INamedTypeSymbol flagAttribute, INamedTypeSymbol controlOp)
        {
            _argumentAttribute = argumentAttribute;
            _flagAttribute = flagAttribute;
            foreach (IFieldSymbol field in controlOp.GetMembers().OfType<IFieldSymbol>())
            {
                if (!field.HasConstantValue || EpollFlagFacts.ToBits(field.ConstantValue) is not { } value)
                    continue;
                _operations.Add(value);
                if (field.Name == "Add")
                    _add = value;
                else if (field.Name == "Delete")
                    _delete = value;
                else if (field.Name == "Modify")
                    _modify = value;
            }
        }

        public void AnalyzeInvocation(OperationAnalysisContext context)
        {
            var invocation = (IInvocationOperation)context.Operation;
            ImmutableArray<Role> roles = _roles.GetOrAdd(invocation.TargetMethod.OriginalDefinition, ReadRoles);
            if (roles.IsEmpty)
                return;

            var call = new Call(invocation);
            foreach (IArgumentOperation argument in invocation.Arguments)
            {
                if (argument.Parameter is not { } parameter)
                    continue;
                foreach (Role role in roles)
                {
                    if (role.Ordinal == parameter.Ordinal)
                        call.Arguments[role.Name] = (argument, role);
                }
            }

            CheckScalars(context, call);
            ulong? op = call.ConstantOf("ControlOperation") is { } written && _operations.Contains(written) ? written : null;
            if (call.Arguments.ContainsKey("AddMask"))
                op = _add;
            else if (call.Arguments.ContainsKey("ModifyMask"))
                op = _modify;
            if (op is null)
                return;

            TargetKind target = Target(call);
            if (target == TargetKind.Self && op == _add)
            {
                IArgumentOperation fd = call.Arguments["Target"].Argument;
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.SetAddedToItself, fd.Value.Syntax.GetLocation(), fd.Value.Syntax.ToString()));
            }
            if (op == _delete || Mask(call, context.Operation.SemanticModel) is not { } mask)
                return;
            CheckMask(context, mask, op.Value, target);
        }

        // The roles of a method's parameters, from [EpollArgument]; empty for every other method.
        private ImmutableArray<Role> ReadRoles(IMethodSymbol method)
        {
            ImmutableArray<Role>.Builder? roles = null;
            foreach (IParameterSymbol parameter in method.Parameters)
            {
                foreach (AttributeData attribute in parameter.GetAttributes())
                {
                    if (!SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, _argumentAttribute)
                        || attribute.ConstructorArguments.Length != 1
                        || attribute.ConstructorArguments[0] is not { Type: INamedTypeSymbol roleEnum, Value: { } value })
                        continue;
                    string? name = roleEnum.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value))?.Name;
                    if (name is null)
                        continue;
                    string? selfFd = attribute.NamedArguments.FirstOrDefault(n => n.Key == "SelfFd").Value.Value as string;
                    (roles ??= ImmutableArray.CreateBuilder<Role>()).Add(new Role(parameter.Ordinal, name, selfFd));
                }
            }
            return roles?.ToImmutable() ?? ImmutableArray<Role>.Empty;
        }

        private void CheckScalars(OperationAnalysisContext context, Call call)
        {
            if (call.Arguments.TryGetValue("ControlOperation", out var op) && Constant(op.Argument.Value) is { } opValue && EpollFlagFacts.ToBits(opValue) is { } bits && !_operations.Contains(bits))
                Report(context, DiagnosticDescriptors.InvalidControlOperation, op.Argument, Text(opValue));
            if (call.Arguments.TryGetValue("MaxEvents", out var max) && Constant(max.Argument.Value) is int maxEvents && maxEvents <= 0)
                Report(context, DiagnosticDescriptors.NonPositiveMaxEvents, max.Argument, Text(maxEvents));
            if (call.Arguments.TryGetValue("TimeoutMilliseconds", out var timeout) && Constant(timeout.Argument.Value) is int ms && ms < -1)
                Report(context, DiagnosticDescriptors.NegativeTimeout, timeout.Argument, Text(ms));
        }

        private void CheckMask(OperationAnalysisContext context, MaskArgument mask, ulong op, TargetKind target)
        {
            EpollFlagFacts facts = _facts.GetOrAdd(mask.EnumType, e => EpollFlagFacts.Read(e, _flagAttribute));
            Location location = mask.Report.GetLocation();
            Location[] edit = [mask.Edit.GetLocation()];

            foreach ((ulong bit, string name, string reason) in facts.Unsupported)
            {
                if ((mask.Value & bit) != 0)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnsupportedEpollFlag, location, edit, Flag(name), name, reason));
            }

            foreach (ConstrainedFlag flag in facts.Constrained)
            {
                if ((mask.Value & flag.Bit) == 0)
                    continue;
                ulong others = mask.Value & ~flag.Bit;
                // One reason per flag: the first that applies, in the order a reader fixes them.
                if (flag.AddOnly && op != _add)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EpollFlagRejected, location, edit, Flag(flag.Name), flag.Name, "is accepted by EPOLL_CTL_ADD only"));
                else if (flag.CompatibleWith is { } compatible && (others & ~compatible) != 0)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EpollFlagRejected, location, edit, ImmutableDictionary<string, string?>.Empty, flag.Name, "cannot be combined with " + facts.Format(others & ~compatible)));
                else if (flag.NotOnEpollSets && target is TargetKind.EpollSet or TargetKind.Self)
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EpollFlagRejected, location, edit, Flag(flag.Name), flag.Name, "cannot be used for a target that is an epoll set"));
            }

            // A one-shot registration is delivered once per re-arm, so it re-checks nothing between
            // deliveries; a mask of no events only gets ERR and HUP, and nothing there is to drain.
            if (facts.EdgeTriggered is { } et && mask.Value != 0 && (mask.Value & (et.Bit | facts.OneShot)) == 0)
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.LevelTriggeredRegistration, location, edit, Flag(et.Name), facts.Format(mask.Value), et.Name));
        }

        // What the fd argument is: the set's own fd, another epoll set's, or something else.
        private static TargetKind Target(Call call)
        {
            if (!call.Arguments.TryGetValue("Target", out var target))
                return TargetKind.Unknown;
            IOperation fd = Strip(target.Argument.Value);
            if (target.Role.SelfFd is { } selfFd && fd is IMemberReferenceOperation { Member: { } member } reference
                && member.Name == selfFd
                && SymbolEqualityComparer.Default.Equals(member.ContainingType, call.Invocation.TargetMethod.ContainingType))
            {
                return call.Invocation.Instance is { } instance && SameStorage(reference.Instance, instance) ? TargetKind.Self : TargetKind.EpollSet;
            }
            if (call.Arguments.TryGetValue("Set", out var set) && SameStorage(fd, Strip(set.Argument.Value)))
                return TargetKind.Self;
            return TargetKind.Unknown;
        }

        // The mask of an Add/Modify argument, or of the struct epoll_event behind a ControlEvent pointer.
        private MaskArgument? Mask(Call call, SemanticModel? model)
        {
            foreach (string role in new[] { "AddMask", "ModifyMask" })
            {
                if (call.Arguments.TryGetValue(role, out var mask)
                    && mask.Argument.Value.Type is INamedTypeSymbol { TypeKind: TypeKind.Enum } enumType
                    && EpollFlagFacts.ToBits(Constant(mask.Argument.Value)) is { } value)
                    return new MaskArgument(value, enumType, mask.Argument.Value.Syntax, mask.Argument.Value.Syntax);
            }
            if (model is not null && call.Arguments.TryGetValue("ControlEvent", out var ev))
                return NativeMask(call.Invocation, ev.Argument, model);
            return null;
        }

        // &local, where the local is a struct initialised as `new T { events = (uint)<enum constant>, ... }`
        // and never written or passed by reference anywhere else in the body: the only shape judged.
        private MaskArgument? NativeMask(IInvocationOperation invocation, IArgumentOperation argument, SemanticModel model)
        {
            if (Strip(argument.Value) is not IAddressOfOperation { Reference: ILocalReferenceOperation { Local: { } local } }
                || local.DeclaringSyntaxReferences.Length != 1
                || local.DeclaringSyntaxReferences[0].GetSyntax() is not VariableDeclaratorSyntax declarator
                || declarator.SyntaxTree != invocation.Syntax.SyntaxTree
                || model.GetOperation(declarator) is not IVariableDeclaratorOperation { Initializer.Value: { } initial }
                || Strip(initial) is not IObjectCreationOperation { Initializer: { } initializer })
                return null;

            IOperation? events = null;
            foreach (IOperation member in initializer.Initializers)
            {
                if (member is ISimpleAssignmentOperation { Target: IFieldReferenceOperation { Field.Name: "events" } or IPropertyReferenceOperation { Property.Name: "events" } } assignment)
                {
                    if (events is not null)
                        return null;
                    events = assignment.Value;
                }
            }
            // The enum the mask was written in: the first enum-typed operand under the conversions.
            IOperation? written = events;
            while (written is not null && written.Type is not INamedTypeSymbol { TypeKind: TypeKind.Enum })
                written = written is IConversionOperation conversion ? conversion.Operand : null;
            if (events is null || written is null || EpollFlagFacts.ToBits(Constant(events)) is not { } value)
                return null;

            IOperation root = invocation;
            while (root.Parent is not null)
                root = root.Parent;
            if (IsWrittenElsewhere(root, local))
                return null;
            return new MaskArgument(value, (INamedTypeSymbol)written.Type!, argument.Value.Syntax, written.Syntax);
        }

        // Any write to the local or its fields, or any escape by reference other than to an epoll_event
        // parameter of the API itself (which only reads it).
        private bool IsWrittenElsewhere(IOperation root, ILocalSymbol local)
        {
            foreach (IOperation operation in root.Descendants())
            {
                switch (operation)
                {
                    case IAssignmentOperation assignment when RefersTo(assignment.Target, local):
                    case IIncrementOrDecrementOperation step when RefersTo(step.Target, local):
                    case IArgumentOperation { Parameter.RefKind: not RefKind.None } byRef when RefersTo(byRef.Value, local):
                    case IAddressOfOperation address when RefersTo(address.Reference, local) && !IsControlEvent(address):
                    case IAnonymousFunctionOperation lambda when lambda.Descendants().Any(d => d is ILocalReferenceOperation r && SymbolEqualityComparer.Default.Equals(r.Local, local)):
                        return true;
                }
            }
            return false;
        }

        private static bool RefersTo(IOperation target, ILocalSymbol local)
        {
            IOperation current = target;
            while (current is IFieldReferenceOperation { Instance: { } instance })
                current = instance;
            return current is ILocalReferenceOperation reference && SymbolEqualityComparer.Default.Equals(reference.Local, local);
        }

        private bool IsControlEvent(IOperation address)
        {
            IOperation? current = address.Parent;
            while (current is IConversionOperation or IParenthesizedOperation)
                current = current.Parent;
            return current is IArgumentOperation { Parameter: { ContainingSymbol: IMethodSymbol method } parameter }
                && _roles.GetOrAdd(method.OriginalDefinition, ReadRoles)
                    .Any(r => r.Ordinal == parameter.Ordinal && r.Name == "ControlEvent");
        }

        // Two operands that surely name the same storage: the same local, parameter, this, or static
        // field, or the same field of the same such instance.
        private static bool SameStorage(IOperation? a, IOperation? b)
        {
            a = a is null ? null : Strip(a);
            b = b is null ? null : Strip(b);
            return (a, b) switch
            {
                (ILocalReferenceOperation x, ILocalReferenceOperation y) => SymbolEqualityComparer.Default.Equals(x.Local, y.Local),
                (IParameterReferenceOperation x, IParameterReferenceOperation y) => SymbolEqualityComparer.Default.Equals(x.Parameter, y.Parameter),
                (IInstanceReferenceOperation, IInstanceReferenceOperation) => true,
                (IFieldReferenceOperation x, IFieldReferenceOperation y) => SymbolEqualityComparer.Default.Equals(x.Field, y.Field)
                    && (x.Field.IsStatic || SameStorage(x.Instance, y.Instance)),
                _ => false,
            };
        }

        private static IOperation Strip(IOperation operation)
        {
            while (operation is IConversionOperation { Operand: { } operand } || operation is IParenthesizedOperation)
                operation = operation is IConversionOperation c ? c.Operand : ((IParenthesizedOperation)operation).Operand;
            return operation;
        }

        private static object? Constant(IOperation operation) =>
            operation.ConstantValue is { HasValue: true, Value: { } value } ? value : null;

        private static void Report(OperationAnalysisContext context, DiagnosticDescriptor descriptor, IArgumentOperation argument, string value) =>
            context.ReportDiagnostic(Diagnostic.Create(descriptor, argument.Value.Syntax.GetLocation(), value));

        private static ImmutableDictionary<string, string?> Flag(string name) =>
            ImmutableDictionary<string, string?>.Empty.Add(FlagProperty, name);

        private static string Text(object value) => System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
    }

    private enum TargetKind
    {
        Unknown,
        EpollSet,
        Self,
    }

    private readonly record struct Role(int Ordinal, string Name, string? SelfFd);

    /// <summary>A constant mask: its value and enum, where to report, and the expression a fix edits.</summary>
    private sealed record MaskArgument(ulong Value, INamedTypeSymbol EnumType, SyntaxNode Report, SyntaxNode Edit);

    /// <summary>One call's arguments by role name.</summary>
    private sealed class Call
    {
        public Call(IInvocationOperation invocation) => Invocation = invocation;

        public IInvocationOperation Invocation { get; }

        public Dictionary<string, (IArgumentOperation Argument, Role Role)> Arguments { get; } = new();

        public ulong? ConstantOf(string role) =>
            Arguments.TryGetValue(role, out var argument) ? EpollFlagFacts.ToBits(argument.Argument.Value.ConstantValue is { HasValue: true } c ? c.Value : null) : null;
    }
}
