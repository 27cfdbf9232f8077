import { z } from 'zod';
import { artifactEnv, artifactUrlEnv, commonEnv, DEFAULT_PORTS, env, grpcTlsEnv } from '@orchestra/lib/gateway';

const optionalUrl = env.url(['http', 'https']).optional();

export const gatewayConfigSchema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  HOST: commonEnv.HOST,
  REDIS_URL: commonEnv.REDIS_URL,
  REDIS_PREFIX: commonEnv.REDIS_PREFIX,
  INTERNAL_TOKEN: commonEnv.INTERNAL_TOKEN,
  ...grpcTlsEnv,
  HTTP_PORT: env.port(DEFAULT_PORTS.gateway.http),
  /** /readyz with its checks and /metrics: a port for the cluster's probes and scrapers, never published. */
  OPS_PORT: env.port(DEFAULT_PORTS.gateway.ops),
  /** Ed25519 private key (PKCS8 PEM) the gateway signs forwarded principals with. */
  PRINCIPAL_PRIVATE_KEY: env.pem('PRIVATE KEY'),
  /** identity's HTTP base URL: its JWKS is at /.well-known/jwks.json. */
  IDENTITY_HTTP_URL: env.url(['http', 'https'], `http://127.0.0.1:${DEFAULT_PORTS.identity.http}`),
  IDENTITY_GRPC_ADDR: env.string(`127.0.0.1:${DEFAULT_PORTS.identity.grpc}`),
  /** static: the composed supergraph file (default gateway/supergraph.graphql, or --supergraph <file>); live: compose from running subgraphs (development). */
  SUPERGRAPH_MODE: env.oneOf(['static', 'live'] as const, 'static'),
  SUPERGRAPH_PATH: z.string().optional(),
  /** Override the routing URL of a subgraph (otherwise the one in the supergraph). */
  SUBGRAPH_IDENTITY_URL: optionalUrl,
  SUBGRAPH_CATALOG_URL: optionalUrl,
  SUBGRAPH_ORCHESTRATION_URL: optionalUrl,
  SUBGRAPH_AUDIT_URL: optionalUrl,
  SUBGRAPH_NOTIFICATIONS_URL: optionalUrl,
  /** Requests per minute per signed-in principal (user or API key) and per IP for anonymous callers. */
  RATE_LIMIT_PER_MINUTE: env.int(1200, { min: 1 }),
  ANONYMOUS_RATE_LIMIT_PER_MINUTE: env.int(300, { min: 1 }),
  /** Upper bound on how long an API key check is cached (revocations evict at once). */
  API_KEY_CACHE_TTL_MS: env.int(30_000, { min: 0, max: 300_000 }),
  MAX_QUERY_DEPTH: env.int(15, { min: 2, max: 100 }),
  /** Fields × list sizes one operation may ask for (gateway/README.md, "Query limits"): a page of 1,000 items of 20 fields costs ~20,000. */
  MAX_QUERY_COST: env.int(50_000, { min: 10, max: 10_000_000 }),
  /** Fields one operation may select, aliases and fragments counted (lists not multiplied). */
  MAX_QUERY_FIELDS: env.int(1_000, { min: 10, max: 100_000 }),
  /** How many items a list without a first/last/limit argument is assumed to hold when costing a query. */
  QUERY_COST_DEFAULT_LIST_SIZE: env.int(10, { min: 1, max: 1_000 }),
  /** Lexical tokens one query may have (graphql-js stops parsing past it). */
  MAX_QUERY_TOKENS: env.int(20_000, { min: 100, max: 1_000_000 }),
  /** How deep JSON variables may nest. */
  MAX_VARIABLES_DEPTH: env.int(64, { min: 2, max: 1_000 }),
  /**
   * Load balancers / ingress controllers whose X-Forwarded-For is believed: comma-separated
   * addresses or CIDRs (e.g. 10.0.0.0/8). Empty: use the socket's address.
   */
  TRUSTED_PROXIES: z
    .string()
    .optional()
    .transform((v): string | false => (v === undefined || v.trim() === '' ? false : v.trim())),
  /** Where OrchestrationService answers: artifact downloads look the artifact up there (GetArtifact, acting for the URL's org). */
  ORCHESTRATION_GRPC_ADDR: z.string().optional(),
  /** Inbound webhooks (POST /hooks/<id>, served when ORCHESTRATION_GRPC_ADDR is set): bodies past this are refused (BODY_TOO_LARGE) and recorded. Keep it equal to orchestration's. */
  WEBHOOK_MAX_BODY_BYTES: env.int(256 * 1024, { min: 1_024, max: 10 * 1024 * 1024 }),
  /** Artifact downloads (GET /artifacts/<id>): the URL keys orchestration signs with, and the store the bytes are read from. */
  ...artifactUrlEnv,
  ...artifactEnv,
  /** permessage-deflate on the subscription WebSocket for clients that offer it (browsers do). */
  WS_COMPRESSION: env.bool(true),
  /** Folder with the built admin SPA to serve at / (optional). */
  WEB_DIST_DIR: z.string().optional(),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const SUBGRAPH_NAMES = ['identity', 'catalog', 'orchestration', 'audit', 'notifications'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export const subgraphUrlOverrides = (config: GatewayConfig): Partial<Record<SubgraphName, string>> => {
  const overrides: Partial<Record<SubgraphName, string>> = {};
  if (config.SUBGRAPH_IDENTITY_URL) overrides.identity = config.SUBGRAPH_IDENTITY_URL;
  if (config.SUBGRAPH_CATALOG_URL) overrides.catalog = config.SUBGRAPH_CATALOG_URL;
  if (config.SUBGRAPH_ORCHESTRATION_URL) overrides.orchestration = config.SUBGRAPH_ORCHESTRATION_URL;
  if (config.SUBGRAPH_AUDIT_URL) overrides.audit = config.SUBGRAPH_AUDIT_URL;
  if (config.SUBGRAPH_NOTIFICATIONS_URL) overrides.notifications = config.SUBGRAPH_NOTIFICATIONS_URL;
  return overrides;
};
