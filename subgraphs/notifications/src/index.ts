export { notificationsConfigSchema, type NotificationsConfig } from './config';
export { createNotificationsService, type NotificationsServiceDeps, type NotificationsServiceHandle } from './service';
export { typeDefs } from './type-defs';
export { NOTIFICATIONS_TENANT_ROLE, migrateNotifications, migrationsDir } from './migrate';
