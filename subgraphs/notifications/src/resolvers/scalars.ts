import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

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
