import { Pool } from 'undici';
import { startPlatform } from '@orchestra/tests';
import { closedLoop, fmt, rssMiB, type LoadResult } from './load';

/**
 * What the gateway costs per request: the same query (`me`) sent through the gateway with a JWT
 * (authentication, rate limit, query planning, principal signing, one subgraph fetch) and sent
 * straight to the identity subgraph with a pre-signed principal (the baseline), alternately.
 */
export async function benchGatewayOverhead({ concurrency = 16, durationMs = 8_000, rounds = 2 } = {}): Promise<string> {
  const email = 'bench@orchestra.local';
  const password = 'Quiet-Lantern-Harbor-71!';
  const platform = await startPlatform({
    services: ['identity'],
    env: {
      identity: { ADMIN_EMAIL: email, ADMIN_PASSWORD: password },
      gateway: { RATE_LIMIT_PER_MINUTE: '100000000' },
    },
  });
  try {
    const login = await platform.graphql<{ login: { accessToken: string; user: { id: string }; organization: { id: string }; role: string } }>(
      'mutation($i: LoginInput!) { login(input: $i) { accessToken role user { id } organization { id } } }',
      { i: { email, password } },
    );
    const session = login.data!.login;
    const query = JSON.stringify({ query: '{ me { role user { id email } organization { name } } }' });
    const gatewayUrl = new URL(platform.gatewayUrl);
    const identityUrl = new URL(`${platform.services.identity!.httpUrl}/graphql`);
    const gatewayPool = new Pool(gatewayUrl.origin, { connections: concurrency });
    const identityPool = new Pool(identityUrl.origin, { connections: concurrency });
    const sign = () =>
      platform.signPrincipal({ kind: 'user', id: session.user.id, userId: session.user.id, orgId: session.organization.id, role: 'owner', scopes: [], display: email, requestId: 'bench' });
    let principalHeader = await sign();
    const refresher = setInterval(() => void sign().then((h) => (principalHeader = h)), 20_000);

    const ok = async (res: Awaited<ReturnType<Pool['request']>>) => {
      const text = await res.body.text();
      return res.statusCode === 200 && !text.includes('"errors"');
    };
    const viaGateway = async () =>
      ok(await gatewayPool.request({ path: gatewayUrl.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` }, body: query }));
    const direct = async () =>
      ok(await identityPool.request({ path: identityUrl.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'x-orchestra-principal': principalHeader }, body: query }));

    if (!(await viaGateway()) || !(await direct())) throw new Error('bench: the query fails before load; is the platform healthy?');
    const results: { direct: LoadResult[]; gateway: LoadResult[] } = { direct: [], gateway: [] };
    for (let round = 0; round < rounds; round += 1) {
      results.direct.push(await closedLoop(direct, { concurrency, durationMs }));
      results.gateway.push(await closedLoop(viaGateway, { concurrency, durationMs }));
    }
    clearInterval(refresher);
    const gatewayRss = await rssMiB(platform.gateway.process.pid);
    const identityRss = await rssMiB(platform.services.identity!.process.pid);
    await gatewayPool.close();
    await identityPool.close();

    const mean = (xs: LoadResult[], key: keyof LoadResult) => xs.reduce((sum, x) => sum + x[key], 0) / xs.length;
    const row = (name: string, xs: LoadResult[]) =>
      `| ${name} | ${fmt(mean(xs, 'rps'), 0)} | ${fmt(mean(xs, 'p50Ms'), 2)} | ${fmt(mean(xs, 'p95Ms'), 2)} | ${fmt(mean(xs, 'p99Ms'), 2)} | ${xs.reduce((s, x) => s + x.errors, 0)} |`;
    return [
      `### Gateway overhead (query \`me\`, ${concurrency} concurrent callers, ${rounds} × ${durationMs / 1000} s each, alternating)`,
      '',
      '| path | requests/s | p50 ms | p95 ms | p99 ms | errors |',
      '|---|---|---|---|---|---|',
      row('identity subgraph directly, pre-signed principal (baseline)', results.direct),
      row('through the gateway with a JWT', results.gateway),
      '',
      `- Throughput through the gateway: **${fmt(mean(results.gateway, 'rps') / mean(results.direct, 'rps'), 2)}×** the baseline; p50 latency **${fmt(mean(results.gateway, 'p50Ms') / mean(results.direct, 'p50Ms'), 2)}×**.`,
      `- Resident memory after the load: gateway ${fmt(gatewayRss, 0)} MiB, identity ${fmt(identityRss, 0)} MiB.`,
      '',
    ].join('\n');
  } finally {
    await platform.stop();
  }
}
