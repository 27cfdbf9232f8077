import { z } from 'zod';

/** A configuration problem: the process prints the message (one line) and exits. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PRIVATE|KEY|SMTP_URL/i;

/**
 * Parses the environment with one zod object schema. The first problem becomes a ConfigError whose
 * message names the variable, what it expects and what it got (secrets are not echoed).
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new ConfigError('config: invalid environment');
  const name = issue.path.join('.');
  const raw = env[name];
  const got = raw === undefined ? 'it is not set' : SECRET_NAME.test(name) ? 'got a value that does not fit' : `got ${JSON.stringify(raw)}`;
  throw new ConfigError(`config: ${name} ${issue.message} (${got})`);
}

const isUrlWith = (value: string, protocols: readonly string[]): boolean => {
  try {
    return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
};

/** Builders for environment variables, each failing with a message that says what it expects. */
export const env = {
  string: (fallback?: string) =>
    fallback === undefined
      ? z.string({ error: 'expects a value' }).min(1, { error: 'expects a non-empty value' })
      : z.string().min(1, { error: 'expects a non-empty value' }).default(fallback),
  url: (protocols: readonly string[], fallback?: string) => {
    const base = z
      .string({ error: `expects a ${protocols.join('/')} URL` })
      .refine((v) => isUrlWith(v, protocols), { error: `expects a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` });
    return fallback === undefined ? base : base.default(fallback);
  },
  port: (fallback: number) =>
    z.coerce
      .number({ error: 'expects a port number (0-65535)' })
      .int({ error: 'expects a port number (0-65535)' })
      .min(0, { error: 'expects a port number (0-65535)' })
      .max(65535, { error: 'expects a port number (0-65535)' })
      .default(fallback),
  int: (fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}) =>
    z.coerce
      .number({ error: `expects an integer between ${min} and ${max}` })
      .int({ error: `expects an integer between ${min} and ${max}` })
      .min(min, { error: `expects an integer between ${min} and ${max}` })
      .max(max, { error: `expects an integer between ${min} and ${max}` })
      .default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expects true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
    z.enum(values, { error: `expects one of ${values.join(', ')}` }).default(fallback as never),
  list: (fallback: string[] = []) =>
    z
      .string()
      .optional()
      .transform((v) => (v === undefined || v.trim() === '' ? fallback : v.split(',').map((s) => s.trim()).filter(Boolean))),
  /** A secret of at least `minLength` characters; never echoed in errors. */
  secret: (minLength: number) =>
    z.string({ error: `expects a secret of at least ${minLength} characters` }).min(minLength, {
      error: `expects a secret of at least ${minLength} characters`,
    }),
  /** A comma-separated list of secrets, each at least `minLength` characters (the first is the current one). */
  secretList: (minLength: number) =>
    z
      .string({ error: `expects a comma-separated list of secrets of at least ${minLength} characters each` })
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .refine((list) => list.length > 0 && list.every((s) => s.length >= minLength), {
        error: `expects a comma-separated list of secrets of at least ${minLength} characters each`,
      }),
  /** A PEM-encoded key; literal "\n" sequences are accepted for single-line env files. */
  pem: (kind: 'PUBLIC KEY' | 'PRIVATE KEY') =>
    z
      .string({ error: `expects a PEM ${kind}` })
      .transform((v) => v.replace(/\\n/g, '\n'))
      .refine((v) => v.includes(`-----BEGIN ${kind}-----`), { error: `expects a PEM ${kind} (-----BEGIN ${kind}-----)` }),
  logLevel: () => z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'expects one of trace, debug, info, warn, error, fatal, silent' }).default('info'),
};

/**
 * TLS between the processes (lib/grpc-tls.ts): GRPC_TLS_DIR holds tls.crt, tls.key and ca.crt (a
 * cert-manager Secret mounted); with GRPC_TLS_MUTUAL servers require client certificates too.
 * Unset: plaintext (one machine, tests).
 */
export const grpcTlsEnv = {
  GRPC_TLS_DIR: z.string().min(1, { error: 'expects a folder holding tls.crt, tls.key and ca.crt' }).optional(),
  GRPC_TLS_MUTUAL: env.bool(true),
};

/** Variables every service process shares. */
export const commonEnv = {
  LOG_LEVEL: env.logLevel(),
  HOST: env.string('127.0.0.1'),
  DATABASE_URL: env.url(['postgres', 'postgresql'], 'postgres://postgres@127.0.0.1:5432/orchestra'),
  REDIS_URL: env.url(['redis', 'rediss'], 'redis://127.0.0.1:6379'),
  /** Every Redis key this process writes starts with it (tests use one per suite). */
  REDIS_PREFIX: env.string('orchestra'),
  /** Shared by every internal gRPC caller and server (metadata `authorization: Bearer ...`). */
  INTERNAL_TOKEN: env.secret(32),
};

/**
 * The variables every domain service (subgraph + gRPC server) reads, with its default ports and
 * schema. AUDIT_GRPC_ADDR is where the audit outbox relay delivers; unset, events wait in the outbox.
 */
export const subgraphEnv = (service: string, httpPort: number, grpcPort: number) => ({
  ...commonEnv,
  ...grpcTlsEnv,
  HTTP_PORT: env.port(httpPort),
  GRPC_PORT: env.port(grpcPort),
  DB_SCHEMA: env.string(service),
  /** The gateway's Ed25519 public key: verifies x-orchestra-principal. */
  PRINCIPAL_PUBLIC_KEY: env.pem('PUBLIC KEY'),
  AUDIT_GRPC_ADDR: z.string().optional(),
  /** Where the notification outbox relay delivers (NotificationService); unset, events wait in the outbox. */
  NOTIFICATIONS_GRPC_ADDR: z.string().optional(),
  /**
   * Where tenant transactions connect: a login of the service's tenant role (row-level security
   * cannot be left from it). Unset, they SET ROLE on DATABASE_URL's connections (development).
   */
  TENANT_DATABASE_URL: env.url(['postgres', 'postgresql']).optional(),
  /**
   * Apply migrations at start. Off where the service logs in as its own role, which owns nothing and
   * may not change the schema: the schema's owner migrates first (`npm run migrate`, the chart's Job).
   */
  DATABASE_MIGRATE: env.bool(true),
});

/** Default ports of `npm start` (HTTP, gRPC). Tests use port 0. */
export const DEFAULT_PORTS = {
  gateway: { http: 4000, ops: 4001 },
  identity: { http: 4101, grpc: 50051 },
  catalog: { http: 4102, grpc: 50052 },
  orchestration: { http: 4103, grpc: 50053 },
  audit: { http: 4104, grpc: 50054 },
  notifications: { http: 4105, grpc: 50055 },
  worker: { http: 4110, grpc: 50061 },
} as const;
