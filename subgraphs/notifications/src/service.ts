import { notificationsV1 } from '@orchestra/proto';
import {
  createGrpcServer,
  createOutboxRelay,
  createPrincipalVerifier,
  createSubgraphHttp,
  loadGrpcTls,
  type Logger,
  type Mailer,
  type Metrics,
  type OutboxRelay,
  type Pool,
  type Redis,
  type RequestContext,
  type ServiceHandle,
} from '@orchestra/lib';
import type { NotificationsConfig } from './config';
import { createFanout, type Fanout, type FanoutChannel } from './fanout/fanout';
import { createLivePublisher } from './fanout/live';
import { createIdentityDirectory, type Directory } from './fanout/recipients';
import { createNotificationGrpcService } from './grpc/notification-service';
import { createResolvers, SERVICE_NAME } from './resolvers';
import { typeDefs } from './type-defs';
import { emailChannel } from './email/channel';
import { createEmailSender, type EmailSender } from './email/sender';
import { createUnsubscriber } from './email/unsubscribe';
import { webhookChannel } from './webhooks/channel';
import { createWebhookSender, type WebhookSender } from './webhooks/sender';

export interface NotificationsServiceDeps {
  config: NotificationsConfig;
  pool: Pool;
  redis: Redis;
  log: Logger;
  metrics: Metrics;
  /** Sends e-mail (lib's mailer; main.ts creates it from SMTP_URL). */
  mailer: Mailer;
  /** Who is in an organization; default IdentityService at IDENTITY_GRPC_ADDR. */
  directory?: Directory;
}

export interface NotificationsServiceHandle extends ServiceHandle {
  fanout: Fanout;
  webhooks: WebhookSender;
  email: EmailSender;
}

/**
 * The notifications service: NotificationService.Publish over gRPC (what every service's notification
 * outbox relay calls), the fan-out of received events to in-app notifications (published live for the
 * gateway), e-mail and webhooks, and the notifications subgraph over HTTP.
 */
export function createNotificationsService({ config, pool, redis, log: rootLog, metrics, mailer, directory: givenDirectory }: NotificationsServiceDeps): NotificationsServiceHandle {
  const log = rootLog.child({ component: 'notifications' });
  const tls = loadGrpcTls(config);
  const directory = givenDirectory ?? createIdentityDirectory({ address: config.IDENTITY_GRPC_ADDR, internalToken: config.INTERNAL_TOKEN, tls });
  const channels: FanoutChannel[] = [];
  const webhooks = createWebhookSender({
    pool,
    log,
    metrics,
    baseDelayMs: config.WEBHOOK_RETRY_BASE_MS,
    maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowedPrivateIps: config.WEBHOOK_ALLOWED_PRIVATE_IPS,
    pollMs: config.NOTIFY_FANOUT_POLL_MS,
    idleMaxMs: config.NOTIFY_IDLE_POLL_MAX_MS,
    onEndpointDisabled: () => fanout.wake(),
  });
  const unsubscriber = createUnsubscriber(config.INTERNAL_TOKEN, config.PUBLIC_URL);
  const email = createEmailSender({ pool, mailer, log, metrics, publicUrl: config.PUBLIC_URL, unsubscriber, digestWindowMs: config.NOTIFY_DIGEST_WINDOW_MS, pollMs: config.NOTIFY_FANOUT_POLL_MS, idleMaxMs: config.NOTIFY_IDLE_POLL_MAX_MS });
  channels.push(emailChannel({ publicUrl: config.PUBLIC_URL, unsubscriber, wakeSender: () => email.wake() }));
  channels.push(webhookChannel({ retryForMs: config.WEBHOOK_RETRY_FOR_MS, wakeSender: () => webhooks.wake() }));
  const fanout = createFanout({
    pool,
    directory,
    live: createLivePublisher({ redis, prefix: config.REDIS_PREFIX, log }),
    channels,
    log,
    metrics,
    pollMs: config.NOTIFY_FANOUT_POLL_MS,
    idleMaxMs: config.NOTIFY_IDLE_POLL_MAX_MS,
  });

  const http = createSubgraphHttp<RequestContext>({
    name: SERVICE_NAME,
    typeDefs,
    resolvers: createResolvers({
      pool,
      unsubscriber,
      webhooks: {
        allowedPrivateIps: new Set(config.WEBHOOK_ALLOWED_PRIVATE_IPS),
        retryForMs: config.WEBHOOK_RETRY_FOR_MS,
        secretOverlapMs: config.WEBHOOK_SECRET_OVERLAP_MS,
        wakeSender: () => webhooks.wake(),
      },
    }),
    verifier: createPrincipalVerifier(config.PRINCIPAL_PUBLIC_KEY),
    log,
    metrics,
    readiness: { postgres: () => pool.query('SELECT 1'), redis: () => redis.ping() },
  });
  const grpc = createGrpcServer({ service: SERVICE_NAME, log, metrics, internalToken: config.INTERNAL_TOKEN, tls });
  grpc.add(notificationsV1.NotificationServiceService, createNotificationGrpcService({ pool, metrics, onStored: () => fanout.wake() }), 'orchestra.notifications.v1.NotificationService');

  const relay: OutboxRelay = createOutboxRelay({
    pool,
    schema: config.DB_SCHEMA,
    service: SERVICE_NAME,
    auditGrpcAddress: config.AUDIT_GRPC_ADDR,
    internalToken: config.INTERNAL_TOKEN,
    tls,
    log,
    metrics,
  });

  return {
    name: SERVICE_NAME,
    http,
    grpc,
    fanout,
    webhooks,
    email,
    async start() {
      fanout.start();
      webhooks.start();
      email.start();
      await relay.start();
    },
    async stop() {
      await grpc.stop();
      await http.close();
      await fanout.stop();
      await webhooks.stop();
      await email.stop();
      await relay.stop();
      if (givenDirectory === undefined) directory.close();
    },
  };
}
