import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const invalid = (value: unknown) =>
  new GraphQLError(`DateTime expects an ISO-8601 date-time with a time zone, e.g. 2026-11-22T10:00:00Z (got ${JSON.stringify(value)})`, {
    extensions: { code: 'BAD_USER_INPUT', reason: 'INVALID_DATE_TIME' },
  });

const toDate = (value: unknown): Date => {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) throw invalid(value);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalid(value);
  return date;
};

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize: (value) => {
    if (value instanceof Date) return value.toISOString();
    return toDate(value).toISOString();
  },
  parseValue: toDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw invalid(ast.kind);
    return toDate(ast.value);
  },
});

const literalValue = (ast: ValueNode): unknown => {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literalValue);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalValue(f.value)]));
    case Kind.VARIABLE:
    case Kind.ENUM:
      throw new GraphQLError('JSON literals cannot hold variables or enums', { extensions: { code: 'BAD_USER_INPUT' } });
  }
};

export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literalValue,
});
