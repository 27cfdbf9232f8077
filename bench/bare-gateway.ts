// The baseline of the gateway benchmark: a bare Apollo Gateway under Apollo Server's standalone HTTP
// server, on the same supergraph and the same subgraph fetcher (undici, pooled) as Orchestra's
// gateway, and nothing else: no authentication, rate limits, metrics, tracing or error shaping. The
// subgraphs still require a signed principal, so every request carries one header signed for the
// bench's user, signed by the parent every 20 s (the header lives 60 s) and sent on IPC — not per request.
// Forked by bench/gateway-overhead.ts; answers on IPC with its URL.
import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { PRINCIPAL_HEADER } from '@orchestra/lib';
import { createSubgraphFetcher } from '@orchestra/gateway';

async function main(): Promise<void> {
  const supergraphSdl = readFileSync(process.env['SUPERGRAPH_PATH']!, 'utf8');
  let header = process.env['BENCH_PRINCIPAL_HEADER']!;
  process.on('message', (m: { header: string }) => (header = m.header));
  const { fetcher } = createSubgraphFetcher();
  const urls = JSON.parse(process.env['SUBGRAPH_URLS'] ?? '{}') as Record<string, string>;
  // As Orchestra's gateway does (gateway/src/federation.ts): no usage reporting to Apollo.
  process.env['APOLLO_TELEMETRY_DISABLED'] = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) =>
      new (class extends RemoteGraphQLDataSource {
        override willSendRequest({ request }: Parameters<NonNullable<RemoteGraphQLDataSource['willSendRequest']>>[0]): void {
          request.http?.headers.set(PRINCIPAL_HEADER, header);
        }
      })({ url: urls[name] ?? url, fetcher }),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  process.send?.({ url });
  // Stopped by the bench with SIGTERM: exit normally, so a --cpu-prof profile is written.
  process.once('SIGTERM', () => process.exit(0));
}

main().catch((error: unknown) => {
  process.stderr.write(`bare gateway: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
