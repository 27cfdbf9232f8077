import {
  AppError,
  diffOf,
  isUniqueViolation,
  isUuid,
  newId,
  notFound,
  recordAudit,
  tenantScopeOf,
  withTenantTransaction,
  type Pool,
  type PoolClient,
  type Principal,
} from '@orchestra/lib';
import type { IsolatedConfigValidator } from '../configuration/isolated-validator';
import { describeViolations, type ConfigViolation } from '../configuration/json-schema';
import {
  countApps,
  deleteAppById,
  findAppById,
  findAppBySlug,
  findAppsByIds,
  insertApp,
  listApps,
  lockAppById,
  updateAppDetails,
  updateAppStatus,
  updateConfigSchemaVersion,
  updateCurrentConfigVersion,
  type AppOrder,
  type AppRow,
} from '../store/apps';
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
import {
  deleteHealth,
  findHealth,
  insertHealthChange,
  listHealthChanges,
  resetHealth,
  secondsByStatus,
  setHealthProbing,
  type HealthChangeRow,
  type HealthRow,
} from '../store/health';
import {
  decodeCursor,
  encodeCursor,
  parseConfigDocument,
  parseDescription,
  parseHealthCheckUrl,
  parseId,
  parseName,
  parsePageSize,
  parseSlug,
  parseTags,
} from './input';
import { APP_STATUSES, assertMutable, nextStatus, type AppStatus, type AppTransition } from './lifecycle';

export const CATALOG_SERVICE = 'catalog';
export const CATALOG_TENANT_ROLE = 'orchestra_catalog_tenant';
/** The schema of an app created without one: any JSON object. */
export const DEFAULT_CONFIG_SCHEMA = { type: 'object' } as const;
const SLUG_CONSTRAINT = 'apps_org_slug_key';

/** Who is acting: the principal, and the signed header to forward when the catalog calls identity. */
export interface Actor {
  principal: Principal;
  principalHeader?: string | undefined;
}

/** Answers whether a user id names a user (identity owns users; the catalog only references them). */
export interface UserDirectory {
  /** Throws BAD_USER_INPUT on `field` when `userId` is not a user the caller's organization knows. */
  assertUser(actor: Actor, userId: string, field: string): Promise<void>;
}

export interface CreateAppInput {
  slug: string;
  name: string;
  description?: string | null | undefined;
  ownerId?: string | null | undefined;
  tags?: string[] | null | undefined;
  healthCheckUrl?: string | null | undefined;
  configSchema?: unknown;
  config?: unknown;
  configMessage?: string | null | undefined;
}

/** Absent fields stay as they are; null clears ownerId and healthCheckUrl. */
export interface UpdateAppInput {
  slug?: string | null | undefined;
  name?: string | null | undefined;
  description?: string | null | undefined;
  ownerId?: string | null | undefined;
  tags?: string[] | null | undefined;
  healthCheckUrl?: string | null | undefined;
}

export interface AppListArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
  search?: string | null | undefined;
  tags?: string[] | null | undefined;
  statuses?: AppStatus[] | null | undefined;
  ownerId?: string | null | undefined;
  order?: AppOrder | null | undefined;
}

export interface Page<T> {
  items: Array<{ cursor: string; node: T }>;
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Uptime {
  windowSeconds: number;
  upSeconds: number;
  downSeconds: number;
  unknownSeconds: number;
  /** up / (up + down); null when the window holds no known status. */
  ratio: number | null;
}

const snapshot = (app: AppRow): Record<string, unknown> => ({
  slug: app.slug,
  name: app.name,
  description: app.description,
  ownerId: app.owner_id,
  status: app.status,
  tags: app.tags,
  healthCheckUrl: app.health_check_url,
});

const configInvalid = (field: string, violations: ConfigViolation[]): AppError =>
  new AppError('BAD_USER_INPUT', `${field} does not match the app's config schema: ${describeViolations(violations)}`, {
    field,
    reason: 'CONFIG_INVALID',
    details: { violations },
  });

const slugTaken = (slug: string, field: string): AppError =>
  new AppError('CONFLICT', `an app with slug "${slug}" already exists in this organization`, { field, reason: 'SLUG_TAKEN' });

const isIdCursor = (key: unknown[]): key is [string] => key.length === 1 && typeof key[0] === 'string';
const isNameCursor = (key: unknown[]): key is [string, string] => key.length === 2 && key.every((k) => typeof k === 'string');
const isVersionCursor = (key: unknown[]): key is [number] => key.length === 1 && Number.isInteger(key[0]);

function pageOf<R, T>(rows: R[], limit: number, keyOf: (row: R) => unknown[], map: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit).map((row) => ({ cursor: encodeCursor(keyOf(row)), node: map(row) }));
  return { items, hasNextPage: rows.length > limit, endCursor: items.at(-1)?.cursor ?? null };
}

export interface CatalogDeps {
  pool: Pool;
  validator: IsolatedConfigValidator;
  /** When given, an app's owner must be a known user. */
  users?: UserDirectory | undefined;
  /** The longest uptime window (the health history kept). */
  historyDays: number;
  /** Whether health checks may target private addresses (CATALOG_ALLOW_PRIVATE_NETWORK). */
  allowPrivateHealthChecks?: boolean | undefined;
  /** Called after a commit that may have made an app's probe due now (the health prober sleeps while none is: its wake()). */
  onHealthScheduled?: (() => void) | undefined;
}

export type Catalog = ReturnType<typeof createCatalog>;

/**
 * The catalog's operations, shared by the GraphQL resolvers and the gRPC service. Each runs in one
 * tenant transaction (row-level security on the principal's org); every change records its audit
 * event in that same transaction, so a change and its audit event exist together or not at all.
 */
export function createCatalog({ pool, validator, users, historyDays, allowPrivateHealthChecks = false, onHealthScheduled }: CatalogDeps) {
  const inTenant = <T>(principal: Principal, fn: (tx: PoolClient) => Promise<T>): Promise<T> =>
    withTenantTransaction(pool, CATALOG_TENANT_ROLE, tenantScopeOf(principal), fn);
  /** inTenant for changes that may start or resume an app's health probes: the prober is told after the commit. */
  const inTenantProbing = async <T>(principal: Principal, fn: (tx: PoolClient) => Promise<T>): Promise<T> => {
    const result = await inTenant(principal, fn);
    onHealthScheduled?.();
    return result;
  };

  const lockApp = async (tx: PoolClient, id: string): Promise<AppRow> => {
    const app = await lockAppById(tx, id);
    if (!app) throw notFound('app', id);
    return app;
  };

  const audit = (tx: PoolClient, principal: Principal, action: string, targetId: string, diff: unknown) =>
    recordAudit(tx, CATALOG_SERVICE, principal, { action, targetType: 'App', targetId, diff });

  const violationsOf = async (tx: PoolClient, app: AppRow, config: unknown, field: string): Promise<ConfigViolation[]> => {
    const schema = await findConfigSchema(tx, app.id, app.config_schema_version);
    if (!schema) throw new AppError('INTERNAL', `app ${app.id} has no config schema version ${app.config_schema_version}`);
    return validator.violations(schema.schema, config, field);
  };

  /** Inserts a config version and makes it current, recording the activation. */
  const publishVersion = async (
    tx: PoolClient,
    principal: Principal,
    app: AppRow,
    config: unknown,
    schemaVersion: number,
    message: string,
  ): Promise<ConfigVersionRow> => {
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
  };

  /** A new URL starts monitoring afresh; a removed one stops it. Status history notes the reset. */
  const applyHealthUrl = async (tx: PoolClient, app: AppRow, url: string | null): Promise<void> => {
    if (url === null) {
      await deleteHealth(tx, app.id);
      return;
    }
    const before = await findHealth(tx, app.id);
    await resetHealth(tx, { appId: app.id, orgId: app.org_id, paused: app.status === 'archived' });
    if (before && before.status !== 'unknown') {
      await insertHealthChange(tx, {
        id: newId(),
        orgId: app.org_id,
        appId: app.id,
        status: 'unknown',
        previousStatus: before.status,
        httpStatus: null,
        error: 'health-check URL changed',
      });
    }
  };

  const checkOwner = async (actor: Actor, ownerId: string | null | undefined, field: string): Promise<string | null | undefined> => {
    if (ownerId === undefined || ownerId === null) return ownerId;
    const id = parseId(ownerId, field);
    if (users) await users.assertUser(actor, id, field);
    return id;
  };

  const transition = async (actor: Actor, id: string, move: AppTransition): Promise<AppRow> => {
    const appId = parseId(id, 'id');
    return inTenantProbing(actor.principal, async (tx) => {
      const before = await lockApp(tx, appId);
      const status = nextStatus(before.slug, before.status, move);
      const after = await updateAppStatus(tx, appId, status);
      if (move === 'archive') await setHealthProbing(tx, appId, false);
      if (move === 'restore') await setHealthProbing(tx, appId, true);
      await audit(tx, actor.principal, `app.${move}`, appId, diffOf({ status: before.status }, { status: after.status }));
      return after;
    });
  };

  return {
    async getApp(principal: Principal, id: string): Promise<AppRow | undefined> {
      const appId = parseId(id, 'id');
      return inTenant(principal, (tx) => findAppById(tx, appId));
    },

    async getAppBySlug(principal: Principal, slug: string): Promise<AppRow | undefined> {
      return inTenant(principal, (tx) => findAppBySlug(tx, slug.trim()));
    },

    /** Apps of the principal's org among `ids`; ids that are not UUIDs or not found are left out. */
    async getApps(principal: Principal, ids: readonly string[]): Promise<AppRow[]> {
      const wanted = ids.filter((id) => isUuid(id)).map((id) => id.toLowerCase());
      if (wanted.length === 0) return [];
      return inTenant(principal, (tx) => findAppsByIds(tx, wanted));
    },

    async listApps(principal: Principal, args: AppListArgs): Promise<Page<AppRow> & { totalCount: number }> {
      const limit = parsePageSize(args.first);
      const order: AppOrder = args.order ?? 'newest';
      const after =
        args.after === undefined || args.after === null
          ? undefined
          : order === 'name'
            ? decodeCursor(args.after, isNameCursor)
            : decodeCursor(args.after, isIdCursor);
      const tags = args.tags === undefined || args.tags === null ? undefined : parseTags(args.tags, 'filter.tags');
      const statuses = args.statuses && args.statuses.length > 0 ? args.statuses : APP_STATUSES.filter((s) => s !== 'archived');
      const ownerId = args.ownerId === undefined || args.ownerId === null ? undefined : parseId(args.ownerId, 'filter.ownerId');
      const search = args.search?.trim();
      if (search !== undefined && search.length > 200) throw new AppError('BAD_USER_INPUT', 'filter.search must be at most 200 characters', { field: 'filter.search', reason: 'TOO_LONG' });
      const { rows, totalCount } = await inTenant(principal, async (tx) => ({
        rows: await listApps(tx, { search, tags, statuses, ownerId, order, after, limit }),
        totalCount: await countApps(tx, { search, tags, statuses, ownerId }),
      }));
      return { ...pageOf(rows, limit, (app) => (order === 'name' ? [app.name, app.id] : [app.id]), (app) => app), totalCount };
    },

    async createApp(actor: Actor, input: CreateAppInput): Promise<AppRow> {
      const { principal } = actor;
      const slug = parseSlug(input.slug, 'input.slug');
      const name = parseName(input.name, 'input.name');
      const description = parseDescription(input.description ?? '', 'input.description');
      const tags = parseTags(input.tags ?? [], 'input.tags');
      const healthCheckUrl = input.healthCheckUrl ? parseHealthCheckUrl(input.healthCheckUrl, 'input.healthCheckUrl', { allowPrivate: allowPrivateHealthChecks }) : null;
      const ownerId = (await checkOwner(actor, input.ownerId, 'input.ownerId')) ?? principal.userId ?? null;
      const schema = input.configSchema ?? DEFAULT_CONFIG_SCHEMA;
      validator.checkSchema(schema, 'input.configSchema');
      const config = input.config === undefined || input.config === null ? undefined : parseConfigDocument(input.config, 'input.config');
      if (config !== undefined) {
        const violations = await validator.violations(schema, config, 'input.config');
        if (violations.length > 0) throw configInvalid('input.config', violations);
      }
      try {
        return await inTenantProbing(principal, async (tx) => {
          const { orgId } = tenantScopeOf(principal);
          let app = await insertApp(tx, { id: newId(), orgId, slug, name, description, ownerId, tags, healthCheckUrl, createdBy: principal.userId ?? null });
          await insertConfigSchema(tx, { orgId, appId: app.id, version: 1, schema, createdBy: principal.userId ?? null });
          if (config !== undefined) {
            await publishVersion(tx, principal, app, config, 1, input.configMessage?.trim() ?? 'initial config');
            app = (await findAppById(tx, app.id))!;
          }
          if (healthCheckUrl !== null) await resetHealth(tx, { appId: app.id, orgId, paused: false });
          await audit(tx, principal, 'app.create', app.id, diffOf(null, { ...snapshot(app), configVersion: app.current_config_version }));
          return app;
        });
      } catch (error) {
        if (isUniqueViolation(error, SLUG_CONSTRAINT)) throw slugTaken(slug, 'input.slug');
        throw error;
      }
    },

    async updateApp(actor: Actor, id: string, input: UpdateAppInput): Promise<AppRow> {
      const appId = parseId(id, 'id');
      const slug = input.slug === undefined || input.slug === null ? undefined : parseSlug(input.slug, 'input.slug');
      const name = input.name === undefined || input.name === null ? undefined : parseName(input.name, 'input.name');
      const description = input.description === undefined || input.description === null ? undefined : parseDescription(input.description, 'input.description');
      const tags = input.tags === undefined || input.tags === null ? undefined : parseTags(input.tags, 'input.tags');
      const healthCheckUrl =
        input.healthCheckUrl === undefined ? undefined : input.healthCheckUrl === null || input.healthCheckUrl.trim() === '' ? null : parseHealthCheckUrl(input.healthCheckUrl, 'input.healthCheckUrl', { allowPrivate: allowPrivateHealthChecks });
      const ownerId = await checkOwner(actor, input.ownerId, 'input.ownerId');
      try {
        return await inTenantProbing(actor.principal, async (tx) => {
          const before = await lockApp(tx, appId);
          assertMutable(before.slug, before.status, 'change the details');
          const after = await updateAppDetails(tx, appId, {
            slug: slug ?? before.slug,
            name: name ?? before.name,
            description: description ?? before.description,
            ownerId: ownerId === undefined ? before.owner_id : ownerId,
            tags: tags ?? before.tags,
            healthCheckUrl: healthCheckUrl === undefined ? before.health_check_url : healthCheckUrl,
          });
          if (after.health_check_url !== before.health_check_url) await applyHealthUrl(tx, after, after.health_check_url);
          await audit(tx, actor.principal, 'app.update', appId, diffOf(snapshot(before), snapshot(after)));
          return after;
        });
      } catch (error) {
        if (isUniqueViolation(error, SLUG_CONSTRAINT) && slug !== undefined) throw slugTaken(slug, 'input.slug');
        throw error;
      }
    },

    pauseApp: (actor: Actor, id: string) => transition(actor, id, 'pause'),
    resumeApp: (actor: Actor, id: string) => transition(actor, id, 'resume'),
    archiveApp: (actor: Actor, id: string) => transition(actor, id, 'archive'),
    restoreApp: (actor: Actor, id: string) => transition(actor, id, 'restore'),

    /** Deletes an archived app with its config history and health (archive first: deletion is final). */
    async deleteApp(actor: Actor, id: string): Promise<string> {
      const appId = parseId(id, 'id');
      return inTenant(actor.principal, async (tx) => {
        const app = await lockApp(tx, appId);
        if (app.status !== 'archived') {
          throw new AppError('CONFLICT', `cannot delete app ${app.slug}: only archived apps can be deleted (archive it first)`, { reason: 'APP_NOT_ARCHIVED' });
        }
        await deleteAppById(tx, appId);
        await audit(tx, actor.principal, 'app.delete', appId, diffOf(snapshot(app), null));
        return appId;
      });
    },

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

    async health(principal: Principal, appId: string): Promise<HealthRow | undefined> {
      return inTenant(principal, (tx) => findHealth(tx, appId));
    },

    async healthChanges(principal: Principal, appId: string, first: number | null | undefined, after: string | null | undefined): Promise<Page<HealthChangeRow>> {
      const limit = parsePageSize(first);
      const before = after === undefined || after === null ? undefined : decodeCursor(after, isIdCursor)[0];
      const rows = await inTenant(principal, (tx) => listHealthChanges(tx, appId, before, limit));
      return pageOf(rows, limit, (row) => [row.id], (row) => row);
    },

    async uptime(principal: Principal, appId: string, windowSeconds: number): Promise<Uptime> {
      const longest = historyDays * 86_400;
      if (!Number.isInteger(windowSeconds) || windowSeconds < 60 || windowSeconds > longest) {
        throw new AppError('BAD_USER_INPUT', `windowSeconds must be between 60 and ${longest} (the health history kept)`, { field: 'windowSeconds', reason: 'OUT_OF_RANGE' });
      }
      const rows = await inTenant(principal, (tx) => secondsByStatus(tx, appId, windowSeconds));
      const seconds = (status: string) => rows.find((r) => r.status === status)?.seconds ?? 0;
      const upSeconds = seconds('up');
      const downSeconds = seconds('down');
      const known = upSeconds + downSeconds;
      return { windowSeconds, upSeconds, downSeconds, unknownSeconds: seconds('unknown'), ratio: known > 0 ? upSeconds / known : null };
    },
  };
}
