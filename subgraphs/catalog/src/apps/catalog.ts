import { AppError, diffOf, isUniqueViolation, isUuid, newId, tenantScopeOf, type Pool, type Principal } from '@orchestra/lib';
import type { IsolatedConfigValidator } from '../configuration/isolated-validator';
import {
  countApps,
  deleteAppById,
  findAppById,
  findAppBySlug,
  findAppsByIds,
  insertApp,
  listApps,
  updateAppDetails,
  updateAppStatus,
  type AppOrder,
  type AppRow,
} from '../store/apps';
import { insertConfigSchema } from '../store/config-versions';
import { configInvalid, createAppConfigOperations, publishVersion } from './app-config';
import { createAppHealthReads, createProbeScheduling } from './app-health';
import { decodeCursor, parseConfigDocument, parseDescription, parseHealthCheckUrl, parseId, parseName, parsePageSize, parseSlug, parseTags } from './input';
import { APP_STATUSES, assertMutable, nextStatus, type AppStatus, type AppTransition } from './lifecycle';
import { createAppScope, isIdCursor, isNameCursor, pageOf, type Actor, type Page } from './scope';

export { CATALOG_SERVICE, CATALOG_TENANT_ROLE, type Actor, type Page } from './scope';
export type { Uptime } from './app-health';

/** The schema of an app created without one: any JSON object. */
export const DEFAULT_CONFIG_SCHEMA = { type: 'object' } as const;
const SLUG_CONSTRAINT = 'apps_org_slug_key';

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

const snapshot = (app: AppRow): Record<string, unknown> => ({
  slug: app.slug,
  name: app.name,
  description: app.description,
  ownerId: app.owner_id,
  status: app.status,
  tags: app.tags,
  healthCheckUrl: app.health_check_url,
});

const slugTaken = (slug: string, field: string): AppError =>
  new AppError('CONFLICT', `an app with slug "${slug}" already exists in this organization`, { field, reason: 'SLUG_TAKEN' });

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
  const scope = createAppScope(pool);
  const { inTenant, lockApp, audit } = scope;
  const probes = createProbeScheduling(scope, onHealthScheduled);
  const { inTenantProbing } = probes;

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
      await probes.applyTransition(tx, appId, move);
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
          await probes.startProbes(tx, app);
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
          if (after.health_check_url !== before.health_check_url) await probes.applyHealthUrl(tx, after, after.health_check_url);
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

    ...createAppConfigOperations(scope, validator),
    ...createAppHealthReads(scope, historyDays),
  };
}
