import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { AppError } from './errors';
import { isRole, roleAtLeast, type Principal, type Role } from './principal';

/**
 * Per-field authorization, declared in each subgraph's SDL. (Apollo Gateway 2.x refuses supergraphs
 * that use @authenticated/@requiresScopes, so the subgraphs enforce their own directive.)
 *
 * - no directive on a root field: any signed-in principal except API keys;
 * - `@access(anonymous: true)`: anyone the gateway let through, signed in or not;
 * - `@access(role: "admin")`: users with at least that role in the current org;
 * - `@access(scopes: ["runs:write"])`: API keys holding every listed scope (users pass by role);
 * - on an OBJECT it applies to every field of the type that has no rule of its own.
 */
export const SUBGRAPH_DIRECTIVES_SDL = `
"Who may resolve this field: see lib/src/access.ts."
directive @access(role: String, scopes: [String!], anonymous: Boolean) on FIELD_DEFINITION | OBJECT
"The audit action a mutation records (success in its transaction, failures by lib): see lib/src/audit-mutations.ts."
directive @audit(action: String!, targetType: String!) on FIELD_DEFINITION
`;

export interface AccessRule {
  role?: Role;
  scopes?: string[];
  anonymous?: boolean;
}

const DEFAULT_ROOT_RULE: AccessRule = {};

/** Throws UNAUTHENTICATED or FORBIDDEN (naming what was missing) when the principal may not pass. */
export function authorize(principal: Principal, rule: AccessRule, coordinate: string): void {
  if (rule.anonymous === true) return;
  switch (principal.kind) {
    case 'anonymous':
      throw new AppError('UNAUTHENTICATED', `sign in to use ${coordinate}`, { reason: 'SIGN_IN_REQUIRED' });
    case 'service':
      return;
    case 'apiKey': {
      if (rule.scopes === undefined || rule.scopes.length === 0) {
        throw new AppError('FORBIDDEN', `${coordinate} is not available to API keys`, { reason: 'NOT_FOR_API_KEYS' });
      }
      const missing = rule.scopes.filter((s) => !principal.scopes.includes(s));
      if (missing.length > 0) {
        throw new AppError('FORBIDDEN', `this API key lacks scope ${missing.join(', ')} needed for ${coordinate}`, {
          reason: 'MISSING_SCOPE',
          details: { requiredScopes: rule.scopes },
        });
      }
      return;
    }
    case 'user':
      if (rule.role !== undefined && !roleAtLeast(principal.role, rule.role)) {
        throw new AppError('FORBIDDEN', `${coordinate} needs role ${rule.role} or higher (you are ${principal.role ?? 'not a member'})`, {
          reason: 'ROLE_TOO_LOW',
          details: { requiredRole: rule.role },
        });
      }
      return;
  }
}

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
