import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { RequestContext } from '@orchestra/lib';
import type { Actor, Catalog, CreateAppInput, Page, UpdateAppInput } from '../apps/catalog';
import type { AppStatus } from '../apps/lifecycle';
import type { AppOrder, AppRow } from '../store/apps';
import type { ActivationRow, ConfigVersionRow } from '../store/config-versions';
import type { HealthChangeRow, HealthRow } from '../store/health';
import type { AppLoader } from './app-loader';
import { DateTimeScalar, JsonScalar } from './scalars';

export interface CatalogContext extends RequestContext {
  catalog: Catalog;
  apps: AppLoader;
}

type PageArgs = { first?: number | null; after?: string | null };

/** A config version with the app's current version, so `isCurrent` needs no second query. */
interface ConfigVersionNode extends ConfigVersionRow {
  currentVersion: number | null;
}

/** A health row with the app id, for `uptime` and `history`. */
type HealthNode = HealthRow;

const actorOf = (ctx: CatalogContext): Actor => ({ principal: ctx.principal, principalHeader: ctx.principalHeader });

const connection = <T, N>(page: Page<T>, map: (row: T) => N) => ({
  edges: page.items.map(({ cursor, node }) => ({ cursor, node: map(node) })),
  pageInfo: {
    hasNextPage: page.hasNextPage,
    // Lists move forward only: a client pages by `after`, from the start.
    hasPreviousPage: false,
    startCursor: page.items[0]?.cursor ?? null,
    endCursor: page.endCursor,
  },
});

const userRef = (id: string | null) => (id === null ? null : { __typename: 'User', id });

const versionNode = (row: ConfigVersionRow, currentVersion: number | null): ConfigVersionNode => ({ ...row, currentVersion });

export const resolvers: GraphQLResolverMap<CatalogContext> = {
  DateTime: DateTimeScalar,
  JSON: JsonScalar,
  AppStatus: { ACTIVE: 'active', PAUSED: 'paused', ARCHIVED: 'archived' },
  AppOrder: { NEWEST: 'newest', NAME: 'name' },
  HealthStatus: { UNKNOWN: 'unknown', UP: 'up', DOWN: 'down' },
  ConfigActivationKind: { PUBLISH: 'publish', ROLLBACK: 'rollback' },

  Query: {
    app: async (_: unknown, { id }: { id: string }, ctx: CatalogContext) => (await ctx.catalog.getApp(ctx.principal, id)) ?? null,
    appBySlug: async (_: unknown, { slug }: { slug: string }, ctx: CatalogContext) => (await ctx.catalog.getAppBySlug(ctx.principal, slug)) ?? null,
    apps: async (
      _: unknown,
      args: PageArgs & { filter?: { search?: string | null; tags?: string[] | null; status?: AppStatus[] | null; ownerId?: string | null } | null; orderBy?: AppOrder | null },
      ctx: CatalogContext,
    ) => {
      const page = await ctx.catalog.listApps(ctx.principal, {
        first: args.first,
        after: args.after,
        search: args.filter?.search,
        tags: args.filter?.tags,
        statuses: args.filter?.status,
        ownerId: args.filter?.ownerId,
        order: args.orderBy,
      });
      return { ...connection(page, (app) => app), totalCount: page.totalCount };
    },
  },

  Mutation: {
    createApp: (_: unknown, { input }: { input: CreateAppInput }, ctx: CatalogContext) => ctx.catalog.createApp(actorOf(ctx), input),
    updateApp: (_: unknown, { id, input }: { id: string; input: UpdateAppInput }, ctx: CatalogContext) => ctx.catalog.updateApp(actorOf(ctx), id, input),
    pauseApp: (_: unknown, { id }: { id: string }, ctx: CatalogContext) => ctx.catalog.pauseApp(actorOf(ctx), id),
    resumeApp: (_: unknown, { id }: { id: string }, ctx: CatalogContext) => ctx.catalog.resumeApp(actorOf(ctx), id),
    archiveApp: (_: unknown, { id }: { id: string }, ctx: CatalogContext) => ctx.catalog.archiveApp(actorOf(ctx), id),
    restoreApp: (_: unknown, { id }: { id: string }, ctx: CatalogContext) => ctx.catalog.restoreApp(actorOf(ctx), id),
    deleteApp: (_: unknown, { id }: { id: string }, ctx: CatalogContext) => ctx.catalog.deleteApp(actorOf(ctx), id),
    publishAppConfig: async (_: unknown, args: { id: string; config: unknown; message?: string | null }, ctx: CatalogContext) => {
      const row = await ctx.catalog.publishConfig(actorOf(ctx), args.id, args.config, args.message);
      return versionNode(row, row.version);
    },
    rollbackAppConfig: async (_: unknown, args: { id: string; version: number; reason?: string | null }, ctx: CatalogContext) => {
      const row = await ctx.catalog.rollbackConfig(actorOf(ctx), args.id, args.version, args.reason);
      return versionNode(row, row.version);
    },
    setAppConfigSchema: (_: unknown, args: { id: string; schema: unknown; config?: unknown; message?: string | null }, ctx: CatalogContext) =>
      ctx.catalog.setConfigSchema(actorOf(ctx), args.id, args.schema, args.config, args.message),
  },

  App: {
    __resolveReference: (ref: { id: string }, ctx: CatalogContext) => ctx.apps.load(ref.id),
    tags: (app: AppRow) => app.tags,
    owner: (app: AppRow) => userRef(app.owner_id),
    healthCheckUrl: (app: AppRow) => app.health_check_url,
    health: async (app: AppRow, _: unknown, ctx: CatalogContext) =>
      app.health_check_url === null ? null : ((await ctx.catalog.health(ctx.principal, app.id)) ?? null),
    createdAt: (app: AppRow) => app.created_at,
    updatedAt: (app: AppRow) => app.updated_at,
    configSchema: (app: AppRow, _: unknown, ctx: CatalogContext) => ctx.catalog.configSchema(ctx.principal, app),
    configSchemaVersion: (app: AppRow) => app.config_schema_version,
    currentConfig: async (app: AppRow, _: unknown, ctx: CatalogContext) => {
      if (app.current_config_version === null) return null;
      const row = await ctx.catalog.configVersion(ctx.principal, app.id, app.current_config_version);
      return row ? versionNode(row, app.current_config_version) : null;
    },
    configVersion: async (app: AppRow, { version }: { version: number }, ctx: CatalogContext) => {
      const row = await ctx.catalog.configVersion(ctx.principal, app.id, version);
      return row ? versionNode(row, app.current_config_version) : null;
    },
    configVersions: async (app: AppRow, { first, after }: PageArgs, ctx: CatalogContext) =>
      connection(await ctx.catalog.configVersions(ctx.principal, app.id, first, after), (row) => versionNode(row, app.current_config_version)),
    configActivations: async (app: AppRow, { first, after }: PageArgs, ctx: CatalogContext) =>
      connection(await ctx.catalog.configActivations(ctx.principal, app.id, first, after), (row) => row),
  },

  AppConfigVersion: {
    schemaVersion: (row: ConfigVersionNode) => row.schema_version,
    createdBy: (row: ConfigVersionNode) => userRef(row.created_by),
    createdAt: (row: ConfigVersionNode) => row.created_at,
    isCurrent: (row: ConfigVersionNode) => row.version === row.currentVersion,
  },

  ConfigActivation: {
    previousVersion: (row: ActivationRow) => row.previous_version,
    activatedBy: (row: ActivationRow) => userRef(row.activated_by),
    activatedAt: (row: ActivationRow) => row.activated_at,
  },

  AppHealth: {
    since: (row: HealthNode) => row.status_since,
    lastCheckedAt: (row: HealthNode) => row.last_checked_at,
    lastLatencyMs: (row: HealthNode) => row.last_latency_ms,
    lastHttpStatus: (row: HealthNode) => row.last_http_status,
    lastError: (row: HealthNode) => row.last_error,
    checksTotal: (row: HealthNode) => Number(row.checks_total),
    checksFailed: (row: HealthNode) => Number(row.checks_failed),
    monitoringSince: (row: HealthNode) => row.monitoring_since,
    uptime: (row: HealthNode, { windowSeconds }: { windowSeconds: number }, ctx: CatalogContext) => ctx.catalog.uptime(ctx.principal, row.app_id, windowSeconds),
    history: async (row: HealthNode, { first, after }: PageArgs, ctx: CatalogContext) =>
      connection(await ctx.catalog.healthChanges(ctx.principal, row.app_id, first, after), (change) => change),
  },

  HealthChange: {
    previousStatus: (row: HealthChangeRow) => row.previous_status,
    changedAt: (row: HealthChangeRow) => row.changed_at,
    httpStatus: (row: HealthChangeRow) => row.http_status,
  },
};
