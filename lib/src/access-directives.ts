import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { authorize, type AccessRule } from './access';
import { isRole, type Principal } from './principal';

const DEFAULT_ROOT_RULE: AccessRule = {};

const parseRule = (args: Record<string, unknown> | undefined, where: string): AccessRule | undefined => {
  if (args === undefined) return undefined;
  const rule: AccessRule = {};
  if (args['role'] !== undefined && args['role'] !== null) {
    if (!isRole(args['role'])) throw new Error(`@access on ${where}: unknown role ${JSON.stringify(args['role'])}`);
    rule.role = args['role'];
  }
  if (Array.isArray(args['scopes'])) rule.scopes = args['scopes'] as string[];
  if (args['anonymous'] === true) rule.anonymous = true;
  return rule;
};

interface AccessContext {
  principal: Principal;
}

/** Wraps resolvers so that each field checks its @access rule before it resolves. */
export function applyAccessRules(schema: GraphQLSchema): GraphQLSchema {
  const rootTypes = new Set(
    [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((t) => t != null).map((t) => t.name),
  );
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName) => {
      const type = schema.getType(typeName);
      const fieldRule = parseRule(getDirective(schema, fieldConfig, 'access')?.[0], `${typeName}.${fieldName}`);
      const typeRule = type ? parseRule(getDirective(schema, type, 'access')?.[0], typeName) : undefined;
      const rule = fieldRule ?? typeRule ?? (rootTypes.has(typeName) ? DEFAULT_ROOT_RULE : undefined);
      if (rule === undefined) return fieldConfig;
      const coordinate = `${typeName}.${fieldName}`;
      const resolve: GraphQLFieldResolver<unknown, AccessContext> = fieldConfig.resolve ?? defaultFieldResolver;
      const guarded: GraphQLFieldResolver<unknown, AccessContext> = (source, args, context, info) => {
        authorize(context.principal, rule, coordinate);
        return resolve(source, args, context, info);
      };
      return { ...fieldConfig, resolve: guarded };
    },
  });
}
