import { AppError, INTERNAL_CHANNEL_OPTIONS, grpcChannelCredentials, unaryCall, type GrpcTls, type Principal } from '@orchestra/lib';
import { catalogV1 } from '@orchestra/proto';

/** Answers whether an app exists in an organization (the catalog owns apps). */
export interface AppDirectory {
  /** Throws BAD_USER_INPUT on `field` when the org has no such app; UNAVAILABLE when the catalog cannot say. */
  assertApp(principal: Principal, appId: string, field: string): Promise<void>;
  close(): void;
}

/** Must match the catalog's ORG_ID_METADATA: internal callers name the org they act in. */
const ORG_ID_METADATA = 'x-orchestra-org-id';

/** Checks app ids against CatalogService.GetApps, within the caller's organization. */
export function createCatalogAppDirectory({ address, internalToken, tls, deadlineMs = 3_000 }: { address: string; internalToken: string; tls?: GrpcTls | undefined; deadlineMs?: number }): AppDirectory {
  const client = new catalogV1.CatalogServiceClient(address, grpcChannelCredentials(tls), INTERNAL_CHANNEL_OPTIONS);
  return {
    async assertApp(principal, appId, field) {
      if (principal.orgId === undefined) throw new AppError('FORBIDDEN', 'an app belongs to an organization: act in one first', { reason: 'NO_ORGANIZATION' });
      const orgId = principal.orgId;
      let apps: catalogV1.App[];
      try {
        ({ apps } = await unaryCall<catalogV1.GetAppsRequest, catalogV1.GetAppsResponse>(
          client,
          (request, metadata, options, callback) => {
            metadata.set(ORG_ID_METADATA, orgId);
            return client.getApps(request, metadata, options, callback);
          },
          { ids: [appId] },
          { internalToken, defaultDeadlineMs: deadlineMs },
          { requestId: principal.requestId, traceparent: principal.traceparent },
        ));
      } catch (error) {
        throw new AppError('UNAVAILABLE', `cannot check ${field}: the catalog service did not answer`, { reason: 'CATALOG_UNAVAILABLE', field, cause: error });
      }
      if (!apps.some((app) => app.id === appId.toLowerCase())) {
        throw new AppError('BAD_USER_INPUT', `${field}: this organization has no app ${appId}`, { field, reason: 'UNKNOWN_APP' });
      }
    },
    close: () => client.close(),
  };
}
