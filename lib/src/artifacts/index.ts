import { createFsArtifactStore } from './fs-store';
import { createS3ArtifactStore } from './s3-store';
import { checkArtifactConfig, type ArtifactConfig, type ArtifactStore } from './store';

export * from './store';
export { createFsArtifactStore } from './fs-store';
export { createS3ArtifactStore, type S3ArtifactStoreOptions } from './s3-store';

/** The store the config names (ARTIFACT_STORE=fs|s3); throws a ConfigError for a config that cannot work. */
export function createArtifactStore(config: ArtifactConfig): ArtifactStore {
  checkArtifactConfig(config);
  if (config.ARTIFACT_STORE === 'fs') return createFsArtifactStore(config.ARTIFACT_DIR);
  return createS3ArtifactStore({
    bucket: config.ARTIFACT_S3_BUCKET ?? '',
    ...(config.ARTIFACT_S3_ENDPOINT === undefined ? {} : { endpoint: config.ARTIFACT_S3_ENDPOINT }),
    region: config.ARTIFACT_S3_REGION,
    forcePathStyle: config.ARTIFACT_S3_FORCE_PATH_STYLE,
  });
}
