export { createCatalogService, typeDefs, migrationsDir, type CatalogServiceDeps, type CatalogServiceHandle } from './service';
export { catalogConfigSchema, type CatalogConfig } from './config';
export { CATALOG_TENANT_ROLE } from './apps/catalog';
export { ORG_ID_METADATA } from './grpc/catalog-service';
