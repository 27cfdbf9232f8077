import {
  defaultFieldResolver,
  Kind,
  OperationTypeNode,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLTypeResolver,
  type SelectionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
} from 'graphql';

/**
 * Subscription events carry keys (run id, task id); the fields a subscriber selects under `run` or
 * `task` may belong to any subgraph. This turns such a field's selection into a query for the
 * federated query plan, keeping the subscriber's aliases, fragments and variables, and lets
 * graphql-js walk the answer by response key afterwards.
 */

const KEY_VARIABLE = '_orchestraSubscriptionKey';
const VALUE_ALIAS = '_orchestraValue';
const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/** Every selection set also asks for __typename, so abstract types resolve from the answer. */
function withTypenames<T extends SelectionSetNode | FragmentDefinitionNode>(node: T): T {
  return visit(node, {
    SelectionSet: {
      leave(set: SelectionSetNode) {
        const has = set.selections.some((s) => s.kind === Kind.FIELD && s.name.value === '__typename' && s.alias === undefined);
        return has ? set : { ...set, selections: [...set.selections, TYPENAME] };
      },
    },
  });
}

/** Names of the fragments a selection uses, transitively. */
function fragmentsUsed(selections: readonly SelectionNode[], fragments: Record<string, FragmentDefinitionNode>): FragmentDefinitionNode[] {
  const seen = new Map<string, FragmentDefinitionNode>();
  const walk = (node: { kind: Kind }) => {
    visit(node as SelectionSetNode, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        const definition = fragments[name];
        if (definition && !seen.has(name)) {
          seen.set(name, definition);
          walk(definition.selectionSet);
        }
      },
    });
  };
  walk({ kind: Kind.SELECTION_SET, selections } as SelectionSetNode);
  return [...seen.values()];
}

function variablesUsed(nodes: ReadonlyArray<{ kind: Kind }>): Set<string> {
  const names = new Set<string>();
  for (const node of nodes) {
    visit(node as SelectionSetNode, {
      Variable(variable) {
        names.add(variable.name.value);
      },
    });
  }
  return names;
}

export interface FederatedQuery {
  document: DocumentNode;
  variables: Record<string, unknown>;
}

const keyVariable = (i: number) => `${KEY_VARIABLE}${i}`;
const valueAlias = (i: number) => `${VALUE_ALIAS}${i}`;

interface SelectionTemplate {
  selectionSet: SelectionSetNode;
  fragments: FragmentDefinitionNode[];
  variableDefinitions: VariableDefinitionNode[];
  used: Set<string>;
}

/** Per field node (documents are interned, so subscribers with the same query share these). */
const templates = new WeakMap<object, SelectionTemplate>();

function templateOf(info: GraphQLResolveInfo): SelectionTemplate {
  const anchor = info.fieldNodes[0] as object;
  const known = templates.get(anchor);
  if (known) return known;
  const selections = info.fieldNodes.flatMap((node) => node.selectionSet?.selections ?? []);
  const selectionSet = withTypenames<SelectionSetNode>({ kind: Kind.SELECTION_SET, selections });
  const fragments = fragmentsUsed(selections, info.fragments).map((f) => withTypenames(f));
  const used = variablesUsed([selectionSet, ...fragments]);
  const variableDefinitions = (info.operation.variableDefinitions ?? []).filter((d) => used.has(d.variable.name.value));
  const template = { selectionSet, fragments, variableDefinitions, used };
  if (info.fieldNodes.length === 1) templates.set(anchor, template);
  return template;
}

/** A string naming the selection and variables a resolver would ask for (batches share it). */
export function selectionSignature(info: GraphQLResolveInfo, rootField: string): string {
  const template = templateOf(info);
  let signature = signatures.get(template);
  if (signature === undefined) {
    signature = `${rootField}|${print(template.selectionSet)}|${template.fragments.map((f) => print(f)).join('|')}`;
    signatures.set(template, signature);
  }
  const variables = [...template.used].sort().map((name) => [name, info.variableValues[name]]);
  return `${signature}|${JSON.stringify(variables)}`;
}
const signatures = new WeakMap<SelectionTemplate, string>();

/**
 * One query fetching `<rootField>(<keyArg>: key) { <the field's selection> }` for every key, each
 * under its own alias, with the fragments and variables the selection uses.
 */
export function federatedBatchQueryFor(info: GraphQLResolveInfo, rootField: string, keyArg: string, keys: readonly string[]): FederatedQuery {
  const { selectionSet, fragments, variableDefinitions, used } = templateOf(info);
  const keyDefinitions: VariableDefinitionNode[] = keys.map((_, i) => ({
    kind: Kind.VARIABLE_DEFINITION,
    variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: keyVariable(i) } },
    type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } },
  }));
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        name: { kind: Kind.NAME, value: 'OrchestraSubscriptionFields' },
        variableDefinitions: [...keyDefinitions, ...variableDefinitions],
        selectionSet: {
          kind: Kind.SELECTION_SET,
          selections: keys.map((_, i) => ({
            kind: Kind.FIELD,
            alias: { kind: Kind.NAME, value: valueAlias(i) },
            name: { kind: Kind.NAME, value: rootField },
            arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: keyArg }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: keyVariable(i) } } }],
            selectionSet,
          })),
        },
      },
      ...fragments,
    ],
  };
  const variables: Record<string, unknown> = {};
  keys.forEach((key, i) => (variables[keyVariable(i)] = key));
  for (const name of used) if (Object.hasOwn(info.variableValues, name)) variables[name] = info.variableValues[name];
  return { document, variables };
}

/** The value of the i-th key's root field in the answer to a federatedBatchQueryFor query. */
export const federatedValueAt = (data: Record<string, unknown> | null | undefined, i: number): unknown => data?.[valueAlias(i)] ?? null;

/** The query for one key (federatedBatchQueryFor with one key). */
export const federatedQueryFor = (info: GraphQLResolveInfo, rootField: string, keyArg: string, key: string): FederatedQuery => federatedBatchQueryFor(info, rootField, keyArg, [key]);

/** The value of the root field in the answer to a federatedQueryFor query. */
export const federatedValue = (data: Record<string, unknown> | null | undefined): unknown => federatedValueAt(data, 0);

/**
 * Objects that came back from the federated query plan: their keys are response keys (aliases),
 * so graphql-js must read them by response key rather than by field name.
 */
export class FederatedObjects {
  private readonly objects = new WeakSet<object>();

  mark<T>(value: T): T {
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) this.mark(item);
    } else if (value !== null && typeof value === 'object') {
      this.objects.add(value);
      for (const item of Object.values(value as Record<string, unknown>)) this.mark(item);
    }
    return value;
  }

  readonly fieldResolver: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
    if (source !== null && typeof source === 'object' && this.objects.has(source)) return (source as Record<string, unknown>)[info.path.key as string];
    return defaultFieldResolver(source, args, context, info);
  };

  readonly typeResolver: GraphQLTypeResolver<unknown, unknown> = (value) =>
    value !== null && typeof value === 'object' && typeof (value as { __typename?: unknown }).__typename === 'string' ? (value as { __typename: string }).__typename : undefined;
}
