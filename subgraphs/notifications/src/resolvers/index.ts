import type { Pool } from '@orchestra/lib';
import type { Unsubscriber } from '../email/unsubscribe';
import { notificationResolvers } from './notifications';
import { preferenceResolvers } from './preferences';
import { DateTimeScalar } from './scalars';
import { webhookResolvers, type WebhookResolverDeps } from './webhooks';

export const SERVICE_NAME = 'notifications';

export interface ResolverDeps {
  pool: Pool;
  unsubscriber: Unsubscriber;
  webhooks: Omit<WebhookResolverDeps, 'pool' | 'service'>;
}

export function createResolvers({ pool, unsubscriber, webhooks: webhookDeps }: ResolverDeps) {
  const notifications = notificationResolvers(pool);
  const preferences = preferenceResolvers(pool, SERVICE_NAME, unsubscriber);
  const webhooks = webhookResolvers({ ...webhookDeps, pool, service: SERVICE_NAME });
  return {
    DateTime: DateTimeScalar,
    Query: { ...notifications.Query, ...preferences.Query, ...webhooks.Query },
    Mutation: { ...notifications.Mutation, ...preferences.Mutation, ...webhooks.Mutation },
    WebhookEndpoint: webhooks.WebhookEndpoint,
    WebhookDelivery: webhooks.WebhookDelivery,
  };
}
