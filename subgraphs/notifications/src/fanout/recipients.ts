import { identityV1 } from '@orchestra/proto';
import { grpcChannelCredentials, INTERNAL_CHANNEL_OPTIONS, newRequestId, ROLES, unaryCall, type GrpcTls, type Role } from '@orchestra/lib';

/** A member an event may go to. */
export interface Recipient {
  userId: string;
  email: string;
  name: string;
  role: Role;
}

/** Who is in an organization, by role (IdentityService.ListMembers). */
export interface Directory {
  membersWithRoleAtLeast(orgId: string, role: Role): Promise<Recipient[]>;
  close(): void;
}

export const rolesAtLeast = (role: Role): Role[] => ROLES.slice(ROLES.indexOf(role));

export function createIdentityDirectory({ address, internalToken, tls }: { address: string; internalToken: string; tls?: GrpcTls | undefined }): Directory {
  const client = new identityV1.IdentityServiceClient(address, grpcChannelCredentials(tls), INTERNAL_CHANNEL_OPTIONS);
  return {
    async membersWithRoleAtLeast(orgId, role) {
      const { members } = await unaryCall(client, client.listMembers.bind(client), { orgId, roles: rolesAtLeast(role) }, { internalToken }, { deadlineMs: 5_000, requestId: newRequestId() });
      return members.map((m) => ({ userId: m.userId, email: m.email, name: m.name, role: m.role as Role }));
    },
    close: () => client.close(),
  };
}
