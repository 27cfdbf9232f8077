import { AppError, authorize, badInput, isUuid, servicePrincipal, type GrpcCallContext, type GrpcServiceImpl, type Principal } from '@orchestra/lib';
import { catalogV1 } from '@orchestra/proto';
import type { Catalog } from '../apps/catalog';
import type { AppStatus } from '../apps/lifecycle';
import type { AppRow } from '../store/apps';

/**
 * Metadata an internal caller with no end user behind it (a scheduler, a dispatcher) sends to name
 * the organization it acts for. The service token already proves the caller is one of ours; a
 * forwarded, gateway-signed principal always takes precedence.
 */
export const ORG_ID_METADATA = 'x-orchestra-org-id';
const MAX_IDS = 500;

const STATUS: Record<AppStatus, catalogV1.AppStatus> = {
  active: catalogV1.AppStatus.APP_STATUS_ACTIVE,
  paused: catalogV1.AppStatus.APP_STATUS_PAUSED,
  archived: catalogV1.AppStatus.APP_STATUS_ARCHIVED,
};

export const toProtoApp = (app: AppRow): catalogV1.App => ({
  id: app.id,
  orgId: app.org_id,
  slug: app.slug,
  name: app.name,
  status: STATUS[app.status],
  tags: app.tags,
  currentConfigVersion: app.current_config_version ?? 0,
  createdAt: app.created_at,
});

/** The org-scoped principal a call acts as, allowed to read apps (viewer role or `apps:read`). */
function callerOf(ctx: GrpcCallContext, method: string): Principal {
  let principal = ctx.principal;
  if (principal === undefined) {
    const orgId = ctx.metadata.get(ORG_ID_METADATA)[0];
    if (orgId === undefined) {
      throw new AppError('FORBIDDEN', `CatalogService.${method} needs the caller's principal (x-orchestra-principal) or ${ORG_ID_METADATA}`, {
        reason: 'NO_ORGANIZATION',
      });
    }
    if (!isUuid(String(orgId))) throw badInput(ORG_ID_METADATA, `${ORG_ID_METADATA} must be an organization id`, 'INVALID_ID');
    principal = servicePrincipal('internal', ctx.requestId, String(orgId).toLowerCase());
  }
  authorize(principal, { role: 'viewer', scopes: ['apps:read'] }, `CatalogService.${method}`);
  return principal;
}

export function createCatalogGrpcService(catalog: Catalog): GrpcServiceImpl<typeof catalogV1.CatalogServiceService> {
  return {
    async getApps(request, ctx) {
      const principal = callerOf(ctx, 'GetApps');
      if (request.ids.length > MAX_IDS) throw badInput('ids', `at most ${MAX_IDS} ids per call (got ${request.ids.length})`, 'TOO_MANY_IDS');
      const apps = await catalog.getApps(principal, request.ids);
      const byId = new Map(apps.map((app) => [app.id, app]));
      // In the order asked for, each once.
      const ordered = [...new Set(request.ids.map((id) => id.toLowerCase()))].flatMap((id) => {
        const app = byId.get(id);
        return app ? [toProtoApp(app)] : [];
      });
      return { apps: ordered };
    },

    async getAppConfig(request, ctx) {
      const principal = callerOf(ctx, 'GetAppConfig');
      if (!isUuid(request.appId)) throw badInput('app_id', `app_id ${JSON.stringify(request.appId)} is not a valid id`, 'INVALID_ID');
      if (request.version < 0) throw badInput('version', 'version must be 0 (current) or a version number', 'OUT_OF_RANGE');
      const app = await catalog.getApp(principal, request.appId);
      if (!app) throw new AppError('NOT_FOUND', `app ${request.appId} not found`, { reason: 'APP_NOT_FOUND' });
      const version = request.version === 0 ? app.current_config_version : request.version;
      if (version === null) {
        throw new AppError('NOT_FOUND', `app ${app.slug} has no config yet`, { reason: 'CONFIG_VERSION_NOT_FOUND' });
      }
      const row = await catalog.configVersion(principal, app.id, version);
      if (!row) throw new AppError('NOT_FOUND', `app ${app.slug} has no config version ${version}`, { reason: 'CONFIG_VERSION_NOT_FOUND' });
      return { version: row.version, config: row.config };
    },
  };
}
