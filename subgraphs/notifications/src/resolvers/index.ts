import type { Pool } from '@orchestra/lib';
import { notificationResolvers } from './notifications';
import { preferenceResolvers } from './preferences';
import { DateTimeScalar } from './scalars';

export const SERVICE_NAME = 'notifications';

export interface ResolverDeps {
  pool: Pool;
}

export function createResolvers({ pool }: ResolverDeps) {
  const notifications = notificationResolvers(pool);
  const preferences = preferenceResolvers(pool, SERVICE_NAME);
  return {
    DateTime: DateTimeScalar,
    Query: { ...notifications.Query, ...preferences.Query },
    Mutation: { ...notifications.Mutation, ...preferences.Mutation },
  };
}
