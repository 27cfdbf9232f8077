import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { recordAudit } from './audit';
import { withSystemTransaction, type Pool } from './db';
import { toAppError } from './errors';
import type { Logger } from './log';
import type { Principal } from './principal';

export interface MutationAuditOptions {
  /** The producing service's name, stored with each event. */
  service: string;
  pool: Pool;
  log: Logger;
}

const idOf = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * The id of what a failed mutation was aimed at, from its arguments: `id`, then `<targetType>Id`
 * (`appId` for App), then any other `...Id` argument, then the same inside `input`.
 */
export function targetIdOf(args: Record<string, unknown>, targetType: string): string | undefined {
  const typed = `${targetType.charAt(0).toLowerCase()}${targetType.slice(1)}Id`;
  const fromObject = (o: Record<string, unknown>): string | undefined =>
    idOf(o['id']) ?? idOf(o[typed]) ?? Object.entries(o).filter(([k]) => /Id$/.test(k)).map(([, v]) => idOf(v)).find((v) => v !== undefined);
  const input = args['input'];
  return fromObject(args) ?? (input !== null && typeof input === 'object' ? fromObject(input as Record<string, unknown>) : undefined);
}

interface AuditContext {
  principal: Principal;
}

const FAILURE_SCOPE = Symbol('orchestra.auditFailureScope');

/**
 * Where a failed mutation is recorded when the caller's principal does not say it: a failed
 * sign-in is anonymous, yet the organizations of the account it targeted should see it.
 */
export interface AuditFailureScope {
  /** One event per organization (none: the caller's organization, or the platform chain). */
  orgIds: readonly string[];
  targetId?: string | undefined;
  /** Added to the event's diff (redacted like any diff). */
  diff?: Record<string, unknown> | undefined;
}

/** Marks `error` with where its failure is audited (invisible to clients); returns it for `throw`. */
export function withAuditFailureScope<E extends Error>(error: E, scope: AuditFailureScope): E {
  Object.defineProperty(error, FAILURE_SCOPE, { value: scope, enumerable: false });
  return error;
}

const failureScopeOf = (error: unknown): AuditFailureScope | undefined =>
  error !== null && typeof error === 'object' ? ((error as Record<symbol, unknown>)[FAILURE_SCOPE] as AuditFailureScope | undefined) : undefined;

/**
 * Every Mutation field must declare `@audit(action, targetType)`. A mutation that succeeds records its
 * own event (with target id and diff) inside its transaction via recordAudit; one that fails is
 * rolled back, so this wrapper records the failure (outcome = error code) in a transaction of its own.
 */
export function applyMutationAudit(schema: GraphQLSchema, { service, pool, log }: MutationAuditOptions): GraphQLSchema {
  const mutationType = schema.getMutationType();
  if (!mutationType) return schema;
  for (const [name, field] of Object.entries(mutationType.getFields())) {
    if (!getDirective(schema, field, 'audit')?.[0]) {
      throw new Error(`${service}: Mutation.${name} has no @audit(action, targetType): every mutation must be audited`);
    }
  }
  return mapSchema(schema, {
    [MapperKind.MUTATION_ROOT_FIELD]: (fieldConfig, fieldName) => {
      const args = getDirective(schema, fieldConfig, 'audit')?.[0] as { action: string; targetType: string } | undefined;
      if (!args) return fieldConfig;
      const resolve: GraphQLFieldResolver<unknown, AuditContext> = fieldConfig.resolve ?? defaultFieldResolver;
      const audited: GraphQLFieldResolver<unknown, AuditContext> = async (source, fieldArgs, context, info) => {
        try {
          return await resolve(source, fieldArgs, context, info);
        } catch (error) {
          const appError = toAppError(error);
          const scope = failureScopeOf(error);
          const targetId = scope?.targetId ?? targetIdOf(fieldArgs as Record<string, unknown>, args.targetType);
          const orgIds: ReadonlyArray<string | undefined> = scope && scope.orgIds.length > 0 ? scope.orgIds : [undefined];
          try {
            await withSystemTransaction(pool, async (tx) => {
              for (const orgId of orgIds) {
                await recordAudit(tx, service, context.principal, {
                  action: args.action,
                  targetType: args.targetType,
                  targetId,
                  orgId,
                  outcome: appError.code,
                  diff: { mutation: fieldName, error: appError.code === 'INTERNAL' ? 'internal error' : appError.message, ...scope?.diff },
                });
              }
            });
          } catch (auditError) {
            log.error('could not record a failed mutation in the audit outbox', { err: auditError, mutation: fieldName });
          }
          throw error;
        }
      };
      return { ...fieldConfig, resolve: audited };
    },
  });
}
