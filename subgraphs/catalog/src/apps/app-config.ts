import { AppError, newId, type PoolClient, type Principal } from '@orchestra/lib';
import type { IsolatedConfigValidator } from '../configuration/isolated-validator';
import { describeViolations, type ConfigViolation } from '../configuration/json-schema';
import { findAppById, updateConfigSchemaVersion, updateCurrentConfigVersion, type AppRow } from '../store/apps';
import {
  findConfigSchema,
  findConfigVersion,
  insertActivation,
  insertConfigSchema,
  insertConfigVersion,
  listActivations,
  listConfigVersions,
  nextConfigVersion,
  type ActivationRow,
  type ConfigVersionRow,
} from '../store/config-versions';
import { decodeCursor, parseConfigDocument, parseId, parsePageSize } from './input';
import { assertMutable } from './lifecycle';
import { isIdCursor, isVersionCursor, pageOf, type Actor, type AppScope, type Page } from './scope';

export const configInvalid = (field: string, violations: ConfigViolation[]): AppError =>
  new AppError('BAD_USER_INPUT', `${field} does not match the app's config schema: ${describeViolations(violations)}`, {
    field,
    reason: 'CONFIG_INVALID',
    details: { violations },
  });

/** Inserts a config version and makes it current, recording the activation (in the caller's transaction). */
export async function publishVersion(
  tx: PoolClient,
  principal: Principal,
  app: AppRow,
  config: unknown,
  schemaVersion: number,
  message: string,
): Promise<ConfigVersionRow> {
  const orgId = app.org_id;
  const version = await nextConfigVersion(tx, app.id);
  const row = await insertConfigVersion(tx, { orgId, appId: app.id, version, config, schemaVersion, message, createdBy: principal.userId ?? null });
  await insertActivation(tx, {
    id: newId(),
    orgId,
    appId: app.id,
    version,
    previousVersion: app.current_config_version,
    kind: 'publish',
    reason: message,
    activatedBy: principal.userId ?? null,
  });
  await updateCurrentConfigVersion(tx, app.id, version);
  return row;
}

/**
 * An app's versioned config: publishing, rolling back, replacing the schema, and reading the
 * versions and activations. The config in force always satisfies the app's current schema.
 */
export function createAppConfigOperations({ inTenant, lockApp, audit }: AppScope, validator: IsolatedConfigValidator) {
  const violationsOf = async (tx: PoolClient, app: AppRow, config: unknown, field: string): Promise<ConfigViolation[]> => {
    const schema = await findConfigSchema(tx, app.id, app.config_schema_version);
    if (!schema) throw new AppError('INTERNAL', `app ${app.id} has no config schema version ${app.config_schema_version}`);
    return validator.violations(schema.schema, config, field);
  };

  return {
    async publishConfig(actor: Actor, id: string, config: unknown, message: string | null | undefined): Promise<ConfigVersionRow> {
      const appId = parseId(id, 'id');
      const document = parseConfigDocument(config, 'config');
      return inTenant(actor.principal, async (tx) => {
        const app = await lockApp(tx, appId);
        assertMutable(app.slug, app.status, 'publish a config');
        const violations = await violationsOf(tx, app, document, 'config');
        if (violations.length > 0) throw configInvalid('config', violations);
        const row = await publishVersion(tx, actor.principal, app, document, app.config_schema_version, message?.trim() ?? '');
        await audit(tx, actor.principal, 'app.config.publish', appId, { version: row.version, previousVersion: app.current_config_version });
        return row;
      });
    },

    /**
     * Makes an earlier (or, after a rollback, a later) version current again. The version must still
     * satisfy the app's current schema: versions made under an older schema are re-validated, and
     * one that no longer fits is refused with its failing paths.
     */
    async rollbackConfig(actor: Actor, id: string, version: number, reason: string | null | undefined): Promise<ConfigVersionRow> {
      const appId = parseId(id, 'id');
      if (!Number.isInteger(version) || version < 1) throw new AppError('BAD_USER_INPUT', 'version must be a positive integer', { field: 'version', reason: 'OUT_OF_RANGE' });
      return inTenant(actor.principal, async (tx) => {
        const app = await lockApp(tx, appId);
        assertMutable(app.slug, app.status, 'roll back the config');
        const target = await findConfigVersion(tx, appId, version);
        if (!target) throw new AppError('NOT_FOUND', `app ${app.slug} has no config version ${version}`, { field: 'version', reason: 'CONFIG_VERSION_NOT_FOUND' });
        if (app.current_config_version === version) {
          throw new AppError('CONFLICT', `config version ${version} of app ${app.slug} is already current`, { field: 'version', reason: 'CONFIG_VERSION_ALREADY_CURRENT' });
        }
        if (target.schema_version !== app.config_schema_version) {
          const violations = await violationsOf(tx, app, target.config, 'version');
          if (violations.length > 0) {
            throw new AppError(
              'CONFLICT',
              `config version ${version} of app ${app.slug} does not satisfy the app's current config schema: ${describeViolations(violations)}`,
              { field: 'version', reason: 'CONFIG_DOES_NOT_MATCH_SCHEMA', details: { violations } },
            );
          }
        }
        await insertActivation(tx, {
          id: newId(),
          orgId: app.org_id,
          appId,
          version,
          previousVersion: app.current_config_version,
          kind: 'rollback',
          reason: reason?.trim() ?? '',
          activatedBy: actor.principal.userId ?? null,
        });
        await updateCurrentConfigVersion(tx, appId, version);
        await audit(tx, actor.principal, 'app.config.rollback', appId, { version, previousVersion: app.current_config_version, reason: reason ?? '' });
        return target;
      });
    },

    /**
     * Replaces the app's config schema. The config in force must never be left invalid: either pass
     * `config` (validated against the new schema and published with it, in the same transaction), or
     * the current config must already satisfy the new schema; otherwise CONFLICT lists its failing paths.
     */
    async setConfigSchema(actor: Actor, id: string, schema: unknown, config: unknown, message: string | null | undefined): Promise<AppRow> {
      const appId = parseId(id, 'id');
      validator.checkSchema(schema, 'schema');
      const document = config === undefined || config === null ? undefined : parseConfigDocument(config, 'config');
      if (document !== undefined) {
        const violations = await validator.violations(schema, document, 'config');
        if (violations.length > 0) throw new AppError('BAD_USER_INPUT', `config does not match the new schema: ${describeViolations(violations)}`, { field: 'config', reason: 'CONFIG_INVALID', details: { violations } });
      }
      return inTenant(actor.principal, async (tx) => {
        const app = await lockApp(tx, appId);
        assertMutable(app.slug, app.status, 'change the config schema');
        if (document === undefined && app.current_config_version !== null) {
          const current = await findConfigVersion(tx, appId, app.current_config_version);
          const violations = current ? await validator.violations(schema, current.config, 'schema') : [];
          if (violations.length > 0) {
            throw new AppError(
              'CONFLICT',
              `the current config (version ${app.current_config_version}) of app ${app.slug} does not satisfy the new schema: ${describeViolations(violations)}; pass a config that does, to publish it with the schema`,
              { field: 'schema', reason: 'CURRENT_CONFIG_DOES_NOT_MATCH_SCHEMA', details: { violations } },
            );
          }
        }
        const schemaVersion = app.config_schema_version + 1;
        await insertConfigSchema(tx, { orgId: app.org_id, appId, version: schemaVersion, schema, createdBy: actor.principal.userId ?? null });
        let after = await updateConfigSchemaVersion(tx, appId, schemaVersion);
        let published: number | undefined;
        if (document !== undefined) {
          published = (await publishVersion(tx, actor.principal, after, document, schemaVersion, message?.trim() ?? `config for schema version ${schemaVersion}`)).version;
          after = (await findAppById(tx, appId))!;
        }
        await audit(tx, actor.principal, 'app.config_schema.set', appId, { schemaVersion, previousSchemaVersion: app.config_schema_version, publishedConfigVersion: published ?? null });
        return after;
      });
    },

    async configSchema(principal: Principal, app: AppRow): Promise<unknown> {
      const row = await inTenant(principal, (tx) => findConfigSchema(tx, app.id, app.config_schema_version));
      return row?.schema ?? null;
    },

    async configVersion(principal: Principal, appId: string, version: number): Promise<ConfigVersionRow | undefined> {
      return inTenant(principal, (tx) => findConfigVersion(tx, appId, version));
    },

    async configVersions(principal: Principal, appId: string, first: number | null | undefined, after: string | null | undefined): Promise<Page<ConfigVersionRow>> {
      const limit = parsePageSize(first);
      const before = after === undefined || after === null ? undefined : decodeCursor(after, isVersionCursor)[0];
      const rows = await inTenant(principal, (tx) => listConfigVersions(tx, appId, before, limit));
      return pageOf(rows, limit, (row) => [row.version], (row) => row);
    },

    async configActivations(principal: Principal, appId: string, first: number | null | undefined, after: string | null | undefined): Promise<Page<ActivationRow>> {
      const limit = parsePageSize(first);
      const before = after === undefined || after === null ? undefined : decodeCursor(after, isIdCursor)[0];
      const rows = await inTenant(principal, (tx) => listActivations(tx, appId, before, limit));
      return pageOf(rows, limit, (row) => [row.id], (row) => row);
    },
  };
}
