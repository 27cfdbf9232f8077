import {
  getNamedType,
  getNullableType,
  isListType,
  isInterfaceType,
  isObjectType,
  Kind,
  OperationTypeNode,
  valueFromAST,
  visit,
  BREAK,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { AppError, inspectJson, textProblem } from '@orchestra/lib/gateway';

/**
 * What one operation may ask of the graph, checked before Apollo parses, validates or plans it (so a
 * hostile query costs the gateway a walk of its own text, not seconds of validation and planning).
 *
 * The budget (documented in gateway/README.md):
 * - depth: fields nested at most `maxDepth` deep (fragments followed; introspection fields not counted);
 * - breadth: at most `maxFields` fields selected in all (aliases count, fragments expanded, lists not
 *   multiplied), so 10,000 aliases are refused before Apollo plans them;
 * - cost: every field selected costs 1, times the size of every list above it. A list's size is its
 *   `first` / `last` / `limit` argument (the value sent, else the argument's default in the schema);
 *   `edges` / `nodes` of a connection are sized by the connection's own argument; any other list
 *   counts as `defaultListSize`. Aliases are fields like any other, so 10,000 aliases cost 10,000;
 * - variables: JSON nested at most `maxVariablesDepth` levels.
 * Fragments are measured once each, so a fragment spread a million times costs a walk of the
 * fragment, not a million walks.
 */
export interface QueryLimits {
  maxDepth: number;
  maxFields: number;
  maxCost: number;
  maxVariablesDepth: number;
  defaultListSize: number;
}

export interface OperationMeasure {
  depth: number;
  cost: number;
  /** Fields selected, fragments expanded, lists not multiplied. */
  fields: number;
}

const SIZE_ARGUMENTS = ['first', 'last', 'limit'];
const CONNECTION_LISTS = new Set(['edges', 'nodes']);

/** The deepest nesting of a JSON value (a scalar is 0, `[]` and `{}` are 1), walked without recursion. */
export function jsonDepth(value: unknown, stopAt = Number.POSITIVE_INFINITY): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const here = depth + 1;
    if (here > max) max = here;
    if (max > stopAt) return max;
    for (const child of Array.isArray(current) ? current : Object.values(current as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, here]);
    }
  }
  return max;
}

/** BAD_USER_INPUT naming the variable nested deeper than the limit, or undefined. */
export function checkVariables(variables: Record<string, unknown> | undefined, maxDepth: number): AppError | undefined {
  if (variables === undefined) return undefined;
  for (const [name, value] of Object.entries(variables)) {
    const depth = jsonDepth(value, maxDepth);
    if (depth > maxDepth) {
      return new AppError('BAD_USER_INPUT', `variable $${name} is nested more than ${maxDepth} levels deep`, {
        reason: 'VARIABLES_TOO_DEEP',
        field: `variables.${name}`,
        details: { limit: maxDepth },
      });
    }
  }
  // Text no service can store (PostgreSQL refuses NUL characters and lone surrogates): refused here,
  // naming the place, for every subgraph at once (issue 9 item 9).
  for (const [name, value] of Object.entries(variables)) {
    const bad = inspectJson(value, { maxDepth: Number.MAX_SAFE_INTEGER }, `variables.${name}`);
    if (bad !== undefined) return new AppError('BAD_USER_INPUT', `${bad.path} ${bad.message}`, { reason: bad.reason, field: bad.path });
  }
  return undefined;
}

/** BAD_USER_INPUT when a string written in the operation itself holds a NUL character or a lone surrogate. */
export function checkDocumentText(document: DocumentNode): AppError | undefined {
  let refusal: AppError | undefined;
  visit(document, {
    StringValue(node) {
      const problem = textProblem(node.value);
      if (problem === undefined) return undefined;
      refusal = new AppError('BAD_USER_INPUT', `a string in the query holds ${problem}, which cannot be stored`, { reason: 'INVALID_TEXT', field: 'query' });
      return BREAK;
    },
  });
  return refusal;
}

interface Measured {
  /** Cost with a multiplier of 1 (cost is linear in the multiplier). */
  cost: number;
  depth: number;
  fields: number;
}

/** Measures one operation of `document` against `schema` (unknown fields count 1: validation refuses them later). */
export function measureOperation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined, defaultListSize: number): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const memo = new Map<string, Measured>();
  const inProgress = new Set<string>();

  const sizeOf = (field: GraphQLField<unknown, unknown> | undefined, node: { arguments?: readonly { name: { value: string }; value: ValueNode }[] | undefined }, fieldName: string): number => {
    if (!field) return 1;
    for (const argName of SIZE_ARGUMENTS) {
      const definition = field.args.find((a) => a.name === argName);
      if (!definition) continue;
      const given = node.arguments?.find((a) => a.name.value === argName);
      const value: unknown = given ? valueFromAST(given.value, definition.type, variables ?? {}) : definition.defaultValue;
      if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, value);
    }
    if (!isListType(getNullableType(field.type))) return 1;
    return CONNECTION_LISTS.has(fieldName) ? 1 : defaultListSize;
  };

  const measureSet = (set: SelectionSetNode | undefined, parent: GraphQLNamedType | undefined): Measured => {
    if (!set) return { cost: 0, depth: 0, fields: 0 };
    let cost = 0;
    let depth = 0;
    let fields = 0;
    for (const selection of set.selections) {
      switch (selection.kind) {
        case Kind.FIELD: {
          const name = selection.name.value;
          if (name.startsWith('__')) {
            cost += 1;
            fields += 1;
            continue;
          }
          const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
          const inner = measureSet(selection.selectionSet, field ? getNamedType(field.type) : undefined);
          cost += 1 + sizeOf(field, selection, name) * inner.cost;
          depth = Math.max(depth, 1 + inner.depth);
          fields += 1 + inner.fields;
          break;
        }
        case Kind.INLINE_FRAGMENT: {
          const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
          const inner = measureSet(selection.selectionSet, type ?? undefined);
          cost += inner.cost;
          depth = Math.max(depth, inner.depth);
          fields += inner.fields;
          break;
        }
        case Kind.FRAGMENT_SPREAD: {
          const inner = measureFragment(selection.name.value);
          cost += inner.cost;
          depth = Math.max(depth, inner.depth);
          fields += inner.fields;
          break;
        }
      }
    }
    return { cost, depth, fields };
  };

  const measureFragment = (name: string): Measured => {
    const known = memo.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    // Unknown or cyclic spreads are validation errors; they cost nothing here.
    if (!fragment || inProgress.has(name)) return { cost: 0, depth: 0, fields: 0 };
    inProgress.add(name);
    const measured = measureSet(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined);
    inProgress.delete(name);
    memo.set(name, measured);
    return measured;
  };

  const root =
    operation.operation === OperationTypeNode.QUERY ? schema.getQueryType() : operation.operation === OperationTypeNode.MUTATION ? schema.getMutationType() : schema.getSubscriptionType();
  return measureSet(operation.selectionSet, root ?? undefined);
}

/** The operation `operationName` selects (the only one when unnamed), or undefined. */
export function operationOf(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName === undefined) return operations.length === 1 ? operations[0] : undefined;
  return operations.find((o) => o.name?.value === operationName);
}

/**
 * The variables whose values can change an operation's budget: those written in a `first` / `last` /
 * `limit` argument anywhere in the document (the only values measureOperation reads), in order of
 * first use. Any other variable's value leaves the budget as it is.
 */
export function sizeVariablesOf(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Argument(node) {
      if (!SIZE_ARGUMENTS.includes(node.name.value)) return undefined;
      visit(node.value, {
        Variable(variable) {
          names.add(variable.name.value);
        },
      });
      return false;
    },
  });
  return [...names];
}

/** BAD_USER_INPUT saying which budget an operation exceeds (and by how much), or undefined. */
export function checkOperation(...args: Parameters<typeof checkOperationBudget>): AppError | undefined {
  const [, , , variables, limits] = args;
  return checkVariables(variables, limits.maxVariablesDepth) ?? checkOperationBudget(...args);
}

/**
 * checkOperation without the variables' own checks (depth, text): what the document asks of the graph.
 * Its answer depends on the variables only through those sizeVariablesOf names; a caller that checks
 * variables itself (the GraphQL route) may keep the answer for the other variables' values.
 */
export function checkOperationBudget(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
  limits: QueryLimits,
): AppError | undefined {
  const badText = checkDocumentText(document);
  if (badText) return badText;
  // Every operation in the document is measured: Apollo validates all of them.
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operationName !== undefined && definition.name?.value !== operationName) continue;
    const name = definition.name?.value ?? '(anonymous)';
    const { depth, cost, fields } = measureOperation(schema, document, definition, variables, limits.defaultListSize);
    if (fields > limits.maxFields) {
      return new AppError('BAD_USER_INPUT', `operation ${name} selects ${fields} fields (aliases and fragments counted); the limit is ${limits.maxFields}`, {
        reason: 'QUERY_TOO_BROAD',
        details: { fields, limit: limits.maxFields },
      });
    }
    if (depth > limits.maxDepth) {
      return new AppError('BAD_USER_INPUT', `operation ${name} is ${depth} levels deep; the limit is ${limits.maxDepth}`, { reason: 'QUERY_TOO_DEEP', details: { depth, limit: limits.maxDepth } });
    }
    if (cost > limits.maxCost) {
      return new AppError('BAD_USER_INPUT', `operation ${name} costs ${cost} (fields × list sizes); the budget is ${limits.maxCost}: ask for fewer fields, aliases or items per page`, {
        reason: 'QUERY_TOO_COSTLY',
        details: { cost, limit: limits.maxCost },
      });
    }
  }
  return undefined;
}
