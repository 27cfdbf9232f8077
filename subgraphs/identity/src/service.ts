import {
  createGrpcServer,
  loadGrpcTls,
  createMetrics,
  createNotificationRelay,
  createOutboxRelay,
  createPrincipalVerifier,
  createRateLimiter,
  createSubgraphHttp,
  createTokenRevocations,
  JWKS_PATH,
  type Logger,
  type Mailer,
  type Metrics,
  type OutboxRelay,
  type Pool,
  type Redis,
  type ServiceHandle,
} from '@orchestra/lib';
import { identityV1 } from '@orchestra/proto';
import { createKeyRing, type KeyRing } from './auth/key-ring';
import { createPasswordHasher } from './auth/passwords';
import { sealTotpSecretsAtRest, twoFactorKeyring } from './auth/two-factor-secrets';
import type { IdentityConfig } from './config';
import { inSystem, SERVICE, type IdentityDeps } from './deps';
import { createIdentityGrpc } from './grpc/identity-service';
import { createSignInThrottle } from './auth/sign-in-throttle';
import { createIdentityMetrics } from './metrics';
import { createLoaders } from './resolvers/loaders';
import { createResolvers, type IdentityContext } from './resolvers';
import { typeDefs } from './schema';
import { deleteOldEmailVerifications } from './store/email-verifications';
import { deleteOldPasswordResets } from './store/password-resets';
import { deleteOldChallenges } from './store/two-factor';
import { deleteDeadSessions, deleteExpiredRefreshTokens } from './store/sessions';
import { deleteOldSsoSignIns } from './store/sso-sign-ins';
import { createOidcClient } from './sso/oidc-client';
import { rewrapSsoSecrets } from './sso/rewrap';

export interface IdentityServiceDeps {
  config: IdentityConfig;
  /** A pool on identity's schema (migrated); the caller closes it. */
  pool: Pool;
  /** The caller closes it. */
  redis: Redis;
  log: Logger;
  metrics?: Metrics;
  /** Sends identity's mails (lib createMailer); the caller closes it. */
  mailer: Mailer;
}

export interface IdentityService extends ServiceHandle {
  /** The JWT signing keys (rotation from scripts and tests). */
  keyRing: KeyRing;
  /** One round of background upkeep: key rotation by age, pruning of dead sessions, tokens and keys. */
  runMaintenance(): Promise<void>;
}

/** Builds identity (subgraph, gRPC server, JWKS) from what it is handed. Never listens. */
export function createIdentityService({ config, pool, redis, log, mailer, metrics = createMetrics(SERVICE) }: IdentityServiceDeps): IdentityService {
  const windowMs = config.LOGIN_FAILURE_WINDOW_SECONDS * 1000;
  const counters = createIdentityMetrics(metrics);
  const deps: IdentityDeps = {
    config,
    pool,
    redis,
    log,
    metrics,
    counters,
    hasher: createPasswordHasher({
      memoryCost: config.PASSWORD_HASH_MEMORY_KIB,
      timeCost: config.PASSWORD_HASH_ITERATIONS,
      parallelism: config.PASSWORD_HASH_PARALLELISM,
    }),
    totpKeys: twoFactorKeyring(config, log),
    keyRing: createKeyRing({ pool, log: log.child({ component: 'key-ring' }), algorithm: config.SIGNING_KEY_ALGORITHM, accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS }),
    revocations: createTokenRevocations(redis, config.REDIS_PREFIX),
    signInThrottle: createSignInThrottle({
      redis,
      prefix: `${config.REDIS_PREFIX}:identity:sign-in`,
      freeFailures: config.LOGIN_FREE_FAILURES_PER_CLIENT,
      maxDelaySeconds: config.LOGIN_MAX_DELAY_SECONDS,
      windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
      ip: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:login-failures:ip`, limit: config.LOGIN_MAX_FAILURES_PER_IP, windowMs }),
      account: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:login-failures:account`, limit: config.LOGIN_MAX_FAILURES_PER_ACCOUNT, windowMs }),
      onRefused: (by) => counters.signInRateLimited.inc({ by }),
    }),
    mailer,
    oidc: createOidcClient({ allowInsecureIssuers: config.SSO_ALLOW_INSECURE_ISSUERS, timeoutSeconds: config.SSO_HTTP_TIMEOUT_SECONDS, discoveryCacheSeconds: config.SSO_DISCOVERY_CACHE_SECONDS, log: log.child({ component: 'sso' }) }),
    ssoSignIns: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:sso-sign-ins:ip`, limit: config.SSO_SIGN_INS_PER_IP, windowMs: 3600_000 }),
    passwordResetRequests: {
      ip: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:password-resets:ip`, limit: config.PASSWORD_RESETS_PER_IP, windowMs: 3600_000 }),
      account: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:password-resets:account`, limit: config.PASSWORD_RESET_MAILS_PER_ACCOUNT, windowMs: 3600_000 }),
    },
    invitationMails: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:invitation-mails:org`, limit: config.INVITATIONS_PER_ORGANIZATION, windowMs: 3600_000 }),
    verificationMails: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:verification-mails:account`, limit: config.VERIFICATION_MAILS_PER_ACCOUNT, windowMs: 3600_000 }),
    creations: {
      signUp: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:sign-ups:ip`, limit: config.SIGN_UPS_PER_IP, windowMs: config.CREATION_WINDOW_SECONDS * 1000 }),
      organization: createRateLimiter({ redis, prefix: `${config.REDIS_PREFIX}:identity:organizations:ip`, limit: config.ORGANIZATIONS_PER_IP, windowMs: config.CREATION_WINDOW_SECONDS * 1000 }),
    },
  };
  const verifier = createPrincipalVerifier(config.PRINCIPAL_PUBLIC_KEY);
  let accepting = true;

  const http = createSubgraphHttp<IdentityContext>({
    name: SERVICE,
    typeDefs,
    resolvers: createResolvers(deps),
    verifier,
    log,
    metrics,
    readiness: {
      postgres: () => pool.query('SELECT 1'),
      redis: () => redis.ping(),
    },
    extendContext: (base) => ({ ...base, loaders: createLoaders(deps, base.principal) }),
    isAccepting: () => accepting,
    audit: { service: SERVICE, pool, log },
  });
  // Public keys are public: verifiers fetch them without a principal (lib guards only /graphql).
  http.get(JWKS_PATH, async (_request, reply) => reply.header('cache-control', 'public, max-age=60').send(await deps.keyRing.jwks()));

  const tls = loadGrpcTls(config);
  const grpc = createGrpcServer({ service: SERVICE, log, metrics, internalToken: config.INTERNAL_TOKEN, principalVerifier: verifier, tls });
  grpc.add(identityV1.IdentityServiceService, createIdentityGrpc(deps), 'orchestra.identity.v1.IdentityService');

  const relay: OutboxRelay = createOutboxRelay({
    pool,
    schema: config.DB_SCHEMA,
    service: SERVICE,
    auditGrpcAddress: config.AUDIT_GRPC_ADDR,
    internalToken: config.INTERNAL_TOKEN,
    tls,
    log,
    metrics,
  });

  // Member and API key events for the notifications service, from the same transactions as the changes.
  const notificationRelay: OutboxRelay = createNotificationRelay({
    pool,
    schema: config.DB_SCHEMA,
    service: SERVICE,
    notificationsGrpcAddress: config.NOTIFICATIONS_GRPC_ADDR,
    internalToken: config.INTERNAL_TOKEN,
    tls,
    log,
    metrics,
  });

  const runMaintenance = async (): Promise<void> => {
    if (config.SIGNING_KEY_ROTATE_AFTER_SECONDS > 0) {
      await deps.keyRing.rotateIfOlderThan(config.SIGNING_KEY_ROTATE_AFTER_SECONDS, config.SIGNING_KEY_PUBLISH_AHEAD_SECONDS);
    }
    await deps.keyRing.pruneExpired();
    const { tokens, sessions, resets, verifications, challenges, ssoSignIns } = await inSystem(deps, async (tx) => ({
      tokens: await deleteExpiredRefreshTokens(tx),
      sessions: await deleteDeadSessions(tx),
      resets: await deleteOldPasswordResets(tx),
      verifications: await deleteOldEmailVerifications(tx),
      challenges: await deleteOldChallenges(tx),
      ssoSignIns: await deleteOldSsoSignIns(tx),
    }));
    if (tokens + sessions + resets + verifications + challenges + ssoSignIns > 0) {
      log.info('expired refresh tokens, sessions, password reset, e-mail verification and two-factor challenge tokens, and SSO sign-ins deleted', { tokens, sessions, resets, verifications, challenges, ssoSignIns });
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let maintenance: Promise<void> | undefined;
  const maintain = () => {
    maintenance ??= runMaintenance()
      .catch((err: unknown) => log.error('identity maintenance failed', { err }))
      .finally(() => {
        maintenance = undefined;
      });
  };

  return {
    name: SERVICE,
    http,
    grpc,
    keyRing: deps.keyRing,
    runMaintenance,
    async start() {
      await deps.keyRing.ensureKey();
      // TOTP secrets still in plaintext (before migration 006) or sealed by an older key: sealed with the active key.
      await sealTotpSecretsAtRest({ pool, keyring: deps.totpKeys, log: log.child({ component: 'two-factor-secrets' }) });
      await rewrapSsoSecrets(deps);
      maintain();
      timer = setInterval(maintain, config.MAINTENANCE_INTERVAL_SECONDS * 1000);
      timer.unref();
      await relay.start();
      await notificationRelay.start();
    },
    async stop() {
      accepting = false;
      if (timer) clearInterval(timer);
      await maintenance;
      await relay.stop();
      await notificationRelay.stop();
      await grpc.stop();
      await http.close();
      await deps.oidc.close();
    },
  };
}
