export { buildSubscriptionSchema, createSubscriptionServer, SUBSCRIPTION_SDL, type SubscriptionDeps, type SubscriptionServer } from './server';
