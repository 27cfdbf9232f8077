import { GraphQLScalarType, Kind, valueFromASTUntyped } from 'graphql';
import { badInput } from '@orchestra/lib';

const toDate = (value: unknown): Date => {
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw badInput('DateTime', `${JSON.stringify(value)} is not an ISO 8601 date-time`, 'INVALID_DATE_TIME');
  return date;
};

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (value) => toDate(value).toISOString(),
  parseValue: toDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badInput('DateTime', 'a DateTime is an ISO 8601 string', 'INVALID_DATE_TIME');
    return toDate(ast.value);
  },
});

/**
 * graphql-js builds the objects of an inline literal without a prototype; JSON written inline must
 * be the same value as the same JSON sent as a variable (an idempotency key compares them), so the
 * literal is copied into plain objects and arrays.
 */
const plainJson = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(plainJson);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, plainJson(v)]));
  }
  return value;
};

export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => plainJson(valueFromASTUntyped(ast, variables)),
});
