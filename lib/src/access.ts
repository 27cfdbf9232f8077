import { AppError } from './errors';
import { roleAtLeast, type Principal, type Role } from './principal';

/**
 * Per-field authorization, declared in each subgraph's SDL. (Apollo Gateway 2.x refuses supergraphs
 * that use @authenticated/@requiresScopes, so the subgraphs enforce their own directive.) A
 * subgraph's resolvers are wrapped by access-directives.ts; this module stays free of
 * @graphql-tools because the gateway loads it too.
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
