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
/// EPG0100–EPG0108: calls of EpollGen's epoll API whose constant arguments are level-triggered,
/// unsupported or invalid. Which parameter means what comes from <c>[EpollArgument]</c> on the API,
/// which flag means what from <c>[EpollFlag]</c> on the enum and <c>[FlagUnsupported]</c> on its flag
/// map. Only constants (and buffers empty as written) are judged, and only on calls to methods that
/// carry those attributes.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class EpollUsageAnalyzer : DiagnosticAnalyzer
{
    /// <summary>Diagnostic property: the enum member a code fix adds or removes.</summary>
    public const string FlagProperty = "EpollGen.Flag";

    private const string ArgumentAttributeName = "EpollGen.EpollArgumentAttribute";
    private const string FlagAttributeName = "EpollGen.EpollFlagAttribute";
    private const string ControlOpName = "EpollGen.EpollControlOp";

    /// <summary>Diagnostic property: the name that turns an ADD into a MOD.</summary>
    public const string ReplacementProperty = "EpollGen.Replacement";

    // EEXIST is 17 on every Linux architecture (include/uapi/asm-generic/errno-base.h).
    private const int Eexist = 17;

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
            if (Bind((IInvocationOperation)context.Operation) is not { } call)
                return;

            CheckScalars(context, call);
            if (Operation(call) is not { } op)
                return;

            TargetKind target = Target(call);
            if (target == TargetKind.Self && op == _add)
            {
                IArgumentOperation fd = call.Arguments["Target"].Argument;
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.SetAddedToItself, fd.Value.Syntax.GetLocation(), fd.Value.Syntax.ToString()));
            }
            if (op == _add)
                CheckRetriedAdd(context, call);
            if (op == _delete || Mask(call, context.Operation.SemanticModel) is not { } mask)
                return;
            CheckMask(context, mask, op, target);
        }

        // The call's arguments by role, or null for a method without [EpollArgument] parameters.
        private Call? Bind(IInvocationOperation invocation)
        {
            ImmutableArray<Role> roles = _roles.GetOrAdd(invocation.TargetMethod.OriginalDefinition, ReadRoles);
            if (roles.IsEmpty)
                return null;
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
            return call;
        }

        // ADD or MOD by the method's mask role, or the constant operation when it is a valid one.
        private ulong? Operation(Call call)
        {
            if (call.Arguments.ContainsKey("AddMask"))
                return _add;
            if (call.Arguments.ContainsKey("ModifyMask"))
                return _modify;
            return call.ConstantOf("ControlOperation") is { } written && _operations.Contains(written) ? written : null;
        }

        // An ADD in code that runs only after an ADD of the same fd to the same set failed with EEXIST:
        // inside `if (... == EEXIST)` (or a catch filtered on it), where what is compared is that first
        // ADD's error (its out errno, the last P/Invoke error after epoll_ctl, the caught exception's
        // Errno), and the first ADD is in that condition, before it in the same block, or in the try
        // block the catch belongs to.
        private void CheckRetriedAdd(OperationAnalysisContext context, Call retry)
        {
            var tested = new List<IOperation>();
            var earlier = new List<IOperation>();
            IOperation child = retry.Invocation;
            for (IOperation? parent = child.Parent; parent is not null; child = parent, parent = parent.Parent)
            {
                if (parent is IConditionalOperation conditional && conditional.WhenTrue == child && EexistOperands(conditional.Condition) is { Count: > 0 } compared)
                {
                    tested.AddRange(compared);
                    earlier.Add(conditional.Condition);
                    earlier.AddRange(PrecedingSiblings(conditional));
                }
                else if (parent is ICatchClauseOperation { Filter: { } filter } catchClause && catchClause.Handler == child && EexistOperands(filter) is { Count: > 0 } filtered)
                {
                    tested.AddRange(filtered);
                }
                // Under the guard, a catch's try block ran first: `catch (EpollException e) { if (e.Errno == EEXIST) ... }`.
                if (tested.Count > 0 && parent is ICatchClauseOperation { Parent: ITryOperation { Body: { } tried } })
                    earlier.Add(tried);
            }
            foreach (IOperation scope in earlier)
            {
                foreach (IInvocationOperation first in scope.DescendantsAndSelf().OfType<IInvocationOperation>())
                {
                    if (first == retry.Invocation || Bind(first) is not { } call || Operation(call) != _add
                        || !SameRegistration(call, retry) || !tested.Any(t => IsErrorOf(t, call)))
                        continue;
                    (SyntaxNode? edit, string? replacement) = ModifyCounterpart(retry);
                    SyntaxNode at = retry.Arguments.TryGetValue("ControlOperation", out var op) ? op.Argument.Value.Syntax
                        : retry.Invocation.Syntax is InvocationExpressionSyntax { Expression: { } callee } ? callee : retry.Invocation.Syntax;
                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.AddRetriedAfterExists,
                        at.GetLocation(),
                        edit is null ? null : new[] { edit.GetLocation() },
                        replacement is null ? ImmutableDictionary<string, string?>.Empty : ImmutableDictionary<string, string?>.Empty.Add(ReplacementProperty, replacement),
                        at.ToString(),
                        replacement ?? "EPOLL_CTL_MOD"));
                    return;
                }
            }
        }

        // Whether `tested` carries the error of `first`: a variable it wrote through an out argument,
        // the last P/Invoke error (read by a call) after a libc-shaped call, or a member of an
        // exception a catch clause caught.
        private static bool IsErrorOf(IOperation tested, Call first)
        {
            IOperation value = Strip(tested);
            return value switch
            {
                ILocalReferenceOperation or IParameterReferenceOperation => first.Invocation.Arguments.Any(a =>
                    a.Parameter?.RefKind == RefKind.Out && SameStorage(a.Value is IDeclarationExpressionOperation declaration ? declaration.Expression : a.Value, value)),
                IInvocationOperation => first.Arguments.ContainsKey("ControlOperation"),
                IMemberReferenceOperation { Instance: ILocalReferenceOperation exception } =>
                    exception.Local.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is CatchDeclarationSyntax,
                _ => false,
            };
        }

        private static IEnumerable<IOperation> PrecedingSiblings(IOperation operation)
        {
            if (operation.Parent is not IBlockOperation block)
                yield break;
            foreach (IOperation sibling in block.Operations)
            {
                if (sibling == operation)
                    yield break;
                yield return sibling;
            }
        }

        // What `x == EEXIST` or `x is EEXIST` compares with the constant, anywhere in the condition.
        private static List<IOperation> EexistOperands(IOperation condition)
        {
            var operands = new List<IOperation>();
            foreach (IOperation operation in condition.DescendantsAndSelf())
            {
                if (operation is IBinaryOperation { OperatorKind: BinaryOperatorKind.Equals } equals)
                {
                    if (Constant(equals.RightOperand) is Eexist)
                        operands.Add(equals.LeftOperand);
                    else if (Constant(equals.LeftOperand) is Eexist)
                        operands.Add(equals.RightOperand);
                }
                else if (operation is IIsPatternOperation { Pattern: IConstantPatternOperation pattern } isPattern && Constant(pattern.Value) is Eexist)
                {
                    operands.Add(isPattern.Value);
                }
            }
            return operands;
        }

        // Same fd, same set: the receivers (EpollSet) or the epfd arguments (epoll_ctl) name the same storage.
        private static bool SameRegistration(Call a, Call b)
        {
            if (!a.Arguments.TryGetValue("Target", out var fdA) || !b.Arguments.TryGetValue("Target", out var fdB) || !SameStorage(fdA.Argument.Value, fdB.Argument.Value))
                return false;
            if (a.Arguments.TryGetValue("Set", out var setA) && b.Arguments.TryGetValue("Set", out var setB))
                return SameStorage(setA.Argument.Value, setB.Argument.Value);
            return a.Invocation.Instance is { } instanceA && b.Invocation.Instance is { } instanceB && SameStorage(instanceA, instanceB);
        }

        // What turns the ADD into a MOD, when exactly one thing does: the method of the same type and
        // parameter types whose mask is a ModifyMask, or the constant of the operation's own type whose
        // value is Modify. Returns the name to edit and its replacement.
        private (SyntaxNode? Edit, string? Replacement) ModifyCounterpart(Call call)
        {
            if (call.Arguments.TryGetValue("ControlOperation", out var op))
            {
                if (Strip(op.Argument.Value) is not IFieldReferenceOperation { Field: { IsConst: true } field } reference)
                    return (null, null);
                IFieldSymbol[] modify = field.ContainingType.GetMembers().OfType<IFieldSymbol>()
                    .Where(f => f.IsConst && SymbolEqualityComparer.Default.Equals(f.Type, field.Type) && EpollFlagFacts.ToBits(f.ConstantValue) == _modify)
                    .ToArray();
                return modify.Length == 1 ? (NameOf(reference.Syntax), modify[0].Name) : (null, null);
            }
            IMethodSymbol method = call.Invocation.TargetMethod.OriginalDefinition;
            IMethodSymbol[] counterparts = method.ContainingType.GetMembers().OfType<IMethodSymbol>()
                .Where(m => m.Parameters.Length == method.Parameters.Length
                    && m.Parameters.Zip(method.Parameters, (x, y) => SymbolEqualityComparer.Default.Equals(x.Type, y.Type) && x.RefKind == y.RefKind).All(same => same)
                    && _roles.GetOrAdd(m, ReadRoles).Any(r => r.Name == "ModifyMask"))
                .ToArray();
            if (counterparts.Length != 1 || call.Invocation.Syntax is not InvocationExpressionSyntax { Expression: { } callee })
                return (null, null);
            return (NameOf(callee), counterparts[0].Name);
        }

        private static SyntaxNode? NameOf(SyntaxNode expression) => expression switch
        {
            MemberAccessExpressionSyntax access => access.Name,
            IdentifierNameSyntax name => name,
            _ => null,
        };

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
                Report(context, DiagnosticDescriptors.NonPositiveMaxEvents, max.Argument, "maxevents is " + Text(maxEvents), "fails with EINVAL");
            if (call.Arguments.TryGetValue("TimeoutMilliseconds", out var timeout) && Constant(timeout.Argument.Value) is int ms && ms < -1)
                Report(context, DiagnosticDescriptors.NegativeTimeout, timeout.Argument, Text(ms));
            if (call.Arguments.TryGetValue("EventBuffer", out var buffer) && IsEmptyBuffer(buffer.Argument.Value))
                Report(context, DiagnosticDescriptors.NonPositiveMaxEvents, buffer.Argument, "'" + Written(buffer.Argument) + "' holds no events", "throws ArgumentException");
            if (call.Arguments.TryGetValue("TimeoutTimeSpan", out var span) && ConstantTimeSpan.Ticks(span.Argument.Value) is < 0 and not ConstantTimeSpan.InfiniteTicks)
                Report(context, DiagnosticDescriptors.NegativeTimeSpanTimeout, span.Argument, Written(span.Argument).ToString());
        }

        // A buffer that holds no element as written: `[]`, `new T[0]`, `new T[] { }`, `stackalloc T[0]`,
        // `default`, `Span<T>.Empty`, `new Span<T>()` or `Array.Empty<T>()`.
        private static bool IsEmptyBuffer(IOperation value)
        {
            IOperation buffer = Strip(value);
            switch (buffer)
            {
                case IArrayCreationOperation { DimensionSizes.Length: 1 } array:
                    return Constant(array.DimensionSizes[0]) is 0;
                case IDefaultValueOperation:
                    return true;
                case IPropertyReferenceOperation { Property: { IsStatic: true, Name: "Empty" } property }:
                    return IsSpanOrMemory(property.ContainingType);
                case IObjectCreationOperation { Arguments.IsEmpty: true, Initializer: null } creation:
                    return IsSpanOrMemory(creation.Type);
                case IInvocationOperation { TargetMethod: { IsStatic: true, Name: "Empty", ContainingType: { } type } }:
                    return type.Name == "Array" && IsSystem(type.ContainingNamespace);
            }
            // Collection expressions and stackalloc have no operation interface in the Roslyn this builds against.
            SyntaxNode syntax = buffer.Syntax;
            while (syntax is ParenthesizedExpressionSyntax { Expression: { } inner })
                syntax = inner;
            return syntax switch
            {
                CollectionExpressionSyntax collection => collection.Elements.Count == 0,
                StackAllocArrayCreationExpressionSyntax { Type: ArrayTypeSyntax { RankSpecifiers: { Count: 1 } ranks }, Initializer: null } =>
                    ranks[0].Sizes.Count == 1 && buffer.SemanticModel?.GetConstantValue(ranks[0].Sizes[0]) is { HasValue: true, Value: 0 },
                _ => false,
            };
        }

        private static bool IsSpanOrMemory(ITypeSymbol? type) =>
            type is INamedTypeSymbol { Arity: 1, Name: "Span" or "ReadOnlySpan" or "Memory" or "ReadOnlyMemory" } named && IsSystem(named.ContainingNamespace);

        private static bool IsSystem(INamespaceSymbol? ns) => ns is { Name: "System", ContainingNamespace.IsGlobalNamespace: true };

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
        // or through its typed view, `new T { Events = <enum constant>, ... }`, and never written or
        // passed by reference anywhere else in the body: the only shapes judged.
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
                if (member is ISimpleAssignmentOperation { Target: IFieldReferenceOperation { Field.Name: "events" } or IPropertyReferenceOperation { Property.Name: "events" or "Events" } } assignment)
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
            // Through fields and properties: `ev.Events |= ...` writes the local as `ev.events |= ...` does.
            IOperation current = target;
            while (current is IFieldReferenceOperation { Instance: { } } or IPropertyReferenceOperation { Instance: { } })
                current = ((IMemberReferenceOperation)current).Instance!;
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

        // At the argument as written, parentheses included (the operation tree drops them).
        private static void Report(OperationAnalysisContext context, DiagnosticDescriptor descriptor, IArgumentOperation argument, params string[] arguments) =>
            context.ReportDiagnostic(Diagnostic.Create(descriptor, Written(argument).GetLocation(), arguments));

        private static SyntaxNode Written(IArgumentOperation argument)
        {
            SyntaxNode written = argument.Value.Syntax;
            while (written.Parent is ParenthesizedExpressionSyntax parenthesized)
                written = parenthesized;
            return written;
        }

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
