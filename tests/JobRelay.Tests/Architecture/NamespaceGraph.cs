using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace JobRelay.Tests.ArchitectureRules;

/// <summary>
/// Which namespaces of one assembly use which, read from its compiled metadata and IL rather than from <c>using</c>
/// lines: a fully qualified name, an inferred type or an extension method is a dependency just as much.
/// </summary>
internal sealed class NamespaceGraph
{
    private readonly SortedDictionary<string, SortedSet<string>> _edges = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Namespaces => _edges.Keys;

    public IReadOnlySet<string> DependenciesOf(string ns) =>
        _edges.TryGetValue(ns, out var targets) ? targets : ImmutableSortedSet<string>.Empty;

    public void AddNamespace(string ns)
    {
        if (!_edges.ContainsKey(ns))
        {
            _edges.Add(ns, new SortedSet<string>(StringComparer.Ordinal));
        }
    }

    public void AddEdge(string from, string to)
    {
        AddNamespace(from);
        AddNamespace(to);
        if (from != to)
        {
            _edges[from].Add(to);
        }
    }

    /// <summary>
    /// The cycles, one per strongly connected component of more than one namespace, each written as a closed walk
    /// ("A -> B -> A") so a failure names the edges to cut.
    /// </summary>
    public IReadOnlyList<string> FindCycles()
    {
        var cycles = new List<string>();
        foreach (var component in StronglyConnectedComponents().Where(c => c.Count > 1))
        {
            var members = component.ToHashSet(StringComparer.Ordinal);
            cycles.Add(string.Join(" -> ", WalkThrough(component.Min(StringComparer.Ordinal)!, members)));
        }

        return cycles;
    }

    /// <summary>Tarjan's algorithm, iterative so that depth is no concern.</summary>
    private List<List<string>> StronglyConnectedComponents()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var result = new List<List<string>>();
        var next = 0;

        foreach (var root in _edges.Keys)
        {
            if (index.ContainsKey(root))
            {
                continue;
            }

            var work = new Stack<(string Node, IEnumerator<string> Targets)>();
            Visit(root);
            while (work.Count > 0)
            {
                var (node, targets) = work.Peek();
                if (targets.MoveNext())
                {
                    var target = targets.Current;
                    if (!index.TryGetValue(target, out var targetIndex))
                    {
                        Visit(target);
                    }
                    else if (onStack.Contains(target))
                    {
                        low[node] = Math.Min(low[node], targetIndex);
                    }

                    continue;
                }

                work.Pop();
                if (work.Count > 0)
                {
                    var parent = work.Peek().Node;
                    low[parent] = Math.Min(low[parent], low[node]);
                }

                if (low[node] == index[node])
                {
                    var component = new List<string>();
                    string member;
                    do
                    {
                        member = stack.Pop();
                        onStack.Remove(member);
                        component.Add(member);
                    }
                    while (member != node);
                    result.Add(component);
                }
            }

            void Visit(string node)
            {
                index[node] = low[node] = next++;
                stack.Push(node);
                onStack.Add(node);
                work.Push((node, DependenciesOf(node).GetEnumerator()));
            }
        }

        return result;
    }

    /// <summary>A walk from <paramref name="start"/> that visits every member of its component and returns to it.</summary>
    private List<string> WalkThrough(string start, HashSet<string> members)
    {
        var walk = new List<string> { start };
        var unvisited = new SortedSet<string>(members, StringComparer.Ordinal);
        unvisited.Remove(start);
        var current = start;
        while (unvisited.Count > 0)
        {
            var path = ShortestPath(current, unvisited, members);
            walk.AddRange(path.Skip(1));
            foreach (var step in path)
            {
                unvisited.Remove(step);
            }

            current = path[^1];
        }

        walk.AddRange(ShortestPath(current, new HashSet<string>(StringComparer.Ordinal) { start }, members).Skip(1));
        return walk;
    }

    private List<string> ShortestPath(string from, IReadOnlySet<string> goals, HashSet<string> members)
    {
        var previous = new Dictionary<string, string>(StringComparer.Ordinal) { [from] = from };
        var queue = new Queue<string>();
        queue.Enqueue(from);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            foreach (var target in DependenciesOf(node).Where(members.Contains))
            {
                if (previous.ContainsKey(target))
                {
                    continue;
                }

                previous[target] = node;
                if (goals.Contains(target))
                {
                    var path = new List<string> { target };
                    for (var step = node; ; step = previous[step])
                    {
                        path.Add(step);
                        if (step == from)
                        {
                            break;
                        }
                    }

                    path.Reverse();
                    return path;
                }

                queue.Enqueue(target);
            }
        }

        throw new InvalidOperationException($"No path from {from} inside its own component.");
    }

    /// <summary>
    /// Reads the graph of the namespaces under <paramref name="rootNamespace"/> in the assembly at
    /// <paramref name="assemblyPath"/>. A nested type (a closure, a state machine, a generated logger) counts as its
    /// outermost type. Edges come from base types, interfaces, fields, signatures, attributes, generic constraints,
    /// locals and every token an IL instruction names. Types of other assemblies are left out, except those under
    /// <paramref name="externalRoot"/>, whose namespaces then appear as targets.
    /// </summary>
    public static NamespaceGraph Read(string assemblyPath, string rootNamespace, int depth, string? externalRoot = null)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var graph = new NamespaceGraph();
        var walker = new Walker(reader, pe, rootNamespace, depth, graph, externalRoot);
        foreach (var handle in reader.TypeDefinitions)
        {
            walker.WalkType(handle);
        }

        return graph;
    }

    private sealed class Walker : ISignatureTypeProvider<ImmutableArray<string>, object?>
    {
        private static readonly Dictionary<short, OperandType> OperandTypes = typeof(OpCodes)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => (OpCode)f.GetValue(null)!)
            .ToDictionary(op => op.Value, op => op.OperandType);

        private readonly MetadataReader _reader;
        private readonly PEReader _pe;
        private readonly string _root;
        private readonly int _depth;
        private readonly NamespaceGraph _graph;
        private readonly string? _externalRoot;

        public Walker(MetadataReader reader, PEReader pe, string root, int depth, NamespaceGraph graph, string? externalRoot)
        {
            _externalRoot = externalRoot;
            _reader = reader;
            _pe = pe;
            _root = root;
            _depth = depth;
            _graph = graph;
        }

        public void WalkType(TypeDefinitionHandle handle)
        {
            var from = NamespaceOf(handle);
            if (from is null)
            {
                return;
            }

            _graph.AddNamespace(from);
            var type = _reader.GetTypeDefinition(handle);
            Use(from, type.BaseType);
            foreach (var implementation in type.GetInterfaceImplementations())
            {
                Use(from, _reader.GetInterfaceImplementation(implementation).Interface);
            }

            Attributes(from, type.GetCustomAttributes());
            GenericParameters(from, type.GetGenericParameters());
            foreach (var fieldHandle in type.GetFields())
            {
                var field = _reader.GetFieldDefinition(fieldHandle);
                Add(from, field.DecodeSignature(this, null));
                Attributes(from, field.GetCustomAttributes());
            }

            foreach (var propertyHandle in type.GetProperties())
            {
                var property = _reader.GetPropertyDefinition(propertyHandle);
                var signature = property.DecodeSignature(this, null);
                Add(from, signature.ReturnType);
                Attributes(from, property.GetCustomAttributes());
            }

            foreach (var methodHandle in type.GetMethods())
            {
                WalkMethod(from, _reader.GetMethodDefinition(methodHandle));
            }
        }

        private void WalkMethod(string from, MethodDefinition method)
        {
            var signature = method.DecodeSignature(this, null);
            Add(from, signature.ReturnType);
            foreach (var parameter in signature.ParameterTypes)
            {
                Add(from, parameter);
            }

            Attributes(from, method.GetCustomAttributes());
            GenericParameters(from, method.GetGenericParameters());
            foreach (var parameterHandle in method.GetParameters())
            {
                Attributes(from, _reader.GetParameter(parameterHandle).GetCustomAttributes());
            }

            if (method.RelativeVirtualAddress == 0)
            {
                return;
            }

            var body = _pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil)
            {
                foreach (var local in _reader.GetStandaloneSignature(body.LocalSignature).DecodeLocalSignature(this, null))
                {
                    Add(from, local);
                }
            }

            var il = body.GetILReader();
            while (il.RemainingBytes > 0)
            {
                short code = il.ReadByte();
                if (code == 0xFE)
                {
                    code = unchecked((short)(0xFE00 | il.ReadByte()));
                }

                switch (OperandTypes[code])
                {
                    case OperandType.InlineField:
                    case OperandType.InlineMethod:
                    case OperandType.InlineTok:
                    case OperandType.InlineType:
                        Use(from, MetadataTokens.EntityHandle(il.ReadInt32()));
                        break;
                    case OperandType.InlineSig:
                        var standalone = _reader.GetStandaloneSignature((StandaloneSignatureHandle)MetadataTokens.EntityHandle(il.ReadInt32()));
                        var callSite = standalone.DecodeMethodSignature(this, null);
                        Add(from, callSite.ReturnType);
                        foreach (var parameter in callSite.ParameterTypes)
                        {
                            Add(from, parameter);
                        }

                        break;
                    case OperandType.InlineSwitch:
                        var count = il.ReadInt32();
                        il.Offset += count * 4;
                        break;
                    case OperandType.InlineI8:
                    case OperandType.InlineR:
                        il.Offset += 8;
                        break;
                    case OperandType.InlineBrTarget:
                    case OperandType.InlineI:
                    case OperandType.InlineString:
                    case OperandType.ShortInlineR:
                        il.Offset += 4;
                        break;
                    case OperandType.InlineVar:
                        il.Offset += 2;
                        break;
                    case OperandType.ShortInlineBrTarget:
                    case OperandType.ShortInlineI:
                    case OperandType.ShortInlineVar:
                        il.Offset += 1;
                        break;
                    case OperandType.InlineNone:
                        break;
                    default:
                        throw new InvalidOperationException($"Unknown operand type for IL opcode 0x{code:X4}.");
                }
            }
        }

        private void Attributes(string from, CustomAttributeHandleCollection attributes)
        {
            foreach (var handle in attributes)
            {
                Use(from, _reader.GetCustomAttribute(handle).Constructor);
            }
        }

        private void GenericParameters(string from, GenericParameterHandleCollection parameters)
        {
            foreach (var parameterHandle in parameters)
            {
                foreach (var constraintHandle in _reader.GetGenericParameter(parameterHandle).GetConstraints())
                {
                    Use(from, _reader.GetGenericParameterConstraint(constraintHandle).Type);
                }
            }
        }

        private void Use(string from, EntityHandle handle)
        {
            if (handle.IsNil)
            {
                return;
            }

            switch (handle.Kind)
            {
                case HandleKind.TypeDefinition:
                    Add(from, ImmutableArray.Create(NamespaceOf((TypeDefinitionHandle)handle) ?? string.Empty));
                    break;
                case HandleKind.TypeReference:
                    Add(from, GetTypeFromReference(_reader, (TypeReferenceHandle)handle, 0));
                    break;
                case HandleKind.TypeSpecification:
                    Add(from, _reader.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null));
                    break;
                case HandleKind.MethodDefinition:
                    var method = _reader.GetMethodDefinition((MethodDefinitionHandle)handle);
                    Use(from, method.GetDeclaringType());
                    break;
                case HandleKind.FieldDefinition:
                    Use(from, _reader.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType());
                    break;
                case HandleKind.MemberReference:
                    var member = _reader.GetMemberReference((MemberReferenceHandle)handle);
                    Use(from, member.Parent);
                    if (member.GetKind() == MemberReferenceKind.Method)
                    {
                        var signature = member.DecodeMethodSignature(this, null);
                        Add(from, signature.ReturnType);
                        foreach (var parameter in signature.ParameterTypes)
                        {
                            Add(from, parameter);
                        }
                    }
                    else
                    {
                        Add(from, member.DecodeFieldSignature(this, null));
                    }

                    break;
                case HandleKind.MethodSpecification:
                    var specification = _reader.GetMethodSpecification((MethodSpecificationHandle)handle);
                    Use(from, specification.Method);
                    foreach (var argument in specification.DecodeSignature(this, null))
                    {
                        Add(from, argument);
                    }

                    break;
                default:
                    break;
            }
        }

        private void Add(string from, ImmutableArray<string> namespaces)
        {
            foreach (var ns in namespaces)
            {
                if (ns.Length > 0)
                {
                    _graph.AddEdge(from, ns);
                }
            }
        }

        private string? NamespaceOf(TypeDefinitionHandle handle)
        {
            var type = _reader.GetTypeDefinition(handle);
            while (type.IsNested)
            {
                type = _reader.GetTypeDefinition(type.GetDeclaringType());
            }

            var ns = _reader.GetString(type.Namespace);
            if (ns != _root && !ns.StartsWith(_root + ".", StringComparison.Ordinal))
            {
                return null;
            }

            var parts = ns.Split('.');
            var rootParts = _root.Split('.').Length;
            return parts.Length - rootParts <= _depth ? ns : string.Join('.', parts.Take(rootParts + _depth));
        }

        public ImmutableArray<string> GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) =>
            NamespaceOf(handle) is { } ns ? [ns] : [];

        public ImmutableArray<string> GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            if (_externalRoot is null)
            {
                return [];
            }

            var type = reader.GetTypeReference(handle);
            while (type.ResolutionScope.Kind == HandleKind.TypeReference)
            {
                type = reader.GetTypeReference((TypeReferenceHandle)type.ResolutionScope);
            }

            var ns = reader.GetString(type.Namespace);
            return ns == _externalRoot || ns.StartsWith(_externalRoot + ".", StringComparison.Ordinal) ? [ns] : [];
        }

        public ImmutableArray<string> GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);

        public ImmutableArray<string> GetPrimitiveType(PrimitiveTypeCode typeCode) => [];

        public ImmutableArray<string> GetSZArrayType(ImmutableArray<string> elementType) => elementType;

        public ImmutableArray<string> GetArrayType(ImmutableArray<string> elementType, ArrayShape shape) => elementType;

        public ImmutableArray<string> GetByReferenceType(ImmutableArray<string> elementType) => elementType;

        public ImmutableArray<string> GetPointerType(ImmutableArray<string> elementType) => elementType;

        public ImmutableArray<string> GetPinnedType(ImmutableArray<string> elementType) => elementType;

        public ImmutableArray<string> GetGenericInstantiation(ImmutableArray<string> genericType, ImmutableArray<ImmutableArray<string>> typeArguments) =>
            genericType.AddRange(typeArguments.SelectMany(a => a));

        public ImmutableArray<string> GetGenericMethodParameter(object? genericContext, int index) => [];

        public ImmutableArray<string> GetGenericTypeParameter(object? genericContext, int index) => [];

        public ImmutableArray<string> GetFunctionPointerType(MethodSignature<ImmutableArray<string>> signature) =>
            signature.ReturnType.AddRange(signature.ParameterTypes.SelectMany(p => p));

        public ImmutableArray<string> GetModifiedType(ImmutableArray<string> modifier, ImmutableArray<string> unmodifiedType, bool isRequired) => unmodifiedType;
    }
}
