import { AppError, INTERNAL_CHANNEL_OPTIONS, grpcChannelCredentials, unaryCall, type GrpcTls } from '@orchestra/lib';
import { identityV1 } from '@orchestra/proto';
import type { UserDirectory } from './apps/catalog';

export interface IdentityUserDirectory extends UserDirectory {
  close(): void;
}

/**
 * Checks app owners against IdentityService.GetUsers, forwarding the caller's signed principal so
 * identity answers for the caller's organization.
 */
export function createIdentityUserDirectory({ address, internalToken, tls, deadlineMs = 3_000 }: { address: string; internalToken: string; tls?: GrpcTls | undefined; deadlineMs?: number }): IdentityUserDirectory {
  const client = new identityV1.IdentityServiceClient(address, grpcChannelCredentials(tls), INTERNAL_CHANNEL_OPTIONS);
  return {
    async assertUser(actor, userId, field) {
      const { users } = await unaryCall(client, client.getUsers, { ids: [userId] }, { internalToken, defaultDeadlineMs: deadlineMs }, {
        requestId: actor.principal.requestId,
        ...(actor.principalHeader === undefined ? {} : { principalHeader: actor.principalHeader }),
        traceparent: actor.principal.traceparent,
      });
      if (!users.some((user) => user.id === userId)) {
        throw new AppError('BAD_USER_INPUT', `${field}: there is no user ${userId}`, { field, reason: 'UNKNOWN_USER' });
      }
    },
    close: () => client.close(),
  };
}
