import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal } from '@orchestra/lib';
import type { Platform } from '@orchestra/tests';

/**
 * GraphQL on the orchestration subgraph as a member of an organization of the benchmark's own
 * (the principal signed as the gateway signs it): benchmarks that need several organizations make
 * them up instead of signing up users through identity.
 */
export interface OrgClient {
  orgId: string;
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

export function orgClient(platform: Platform, orgId: string = randomUUID()): OrgClient {
  const userId = randomUUID();
  const url = `${platform.services.orchestration!.httpUrl}/graphql`;
  return {
    orgId,
    async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const principal: Principal = { kind: 'user', id: userId, userId, orgId, role: 'owner', scopes: [], display: `bench@${orgId.slice(0, 8)}`, requestId: `bench-${randomBytes(4).toString('hex')}` };
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-orchestra-principal': await platform.signPrincipal(principal) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: unknown[] };
      if (!body.data || body.errors) throw new Error(`orchestration answered ${JSON.stringify(body.errors)}`);
      return body.data;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
