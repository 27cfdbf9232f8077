import type * as S3Sdk from '@aws-sdk/client-s3';
import { assertArtifactKey, sha256Hex, type ArtifactStore } from './store';

export interface S3ArtifactStoreOptions {
  bucket: string;
  /** An S3-compatible endpoint; unset: AWS. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

/** DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

/**
 * Artifacts in an S3 bucket (or any S3-compatible store). Credentials come from the AWS SDK's
 * standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, a role). The SDK is loaded on
 * first use, so processes that import `@orchestra/lib` without an S3 store never load it.
 * Checksums are sent only where S3 requires them: S3-compatible stores differ in which of the SDK's
 * newer default checksums they understand, and the sha256 we record is computed here anyway.
 */
export function createS3ArtifactStore(options: S3ArtifactStoreOptions): ArtifactStore & { close(): void } {
  let client: Promise<{ s3: S3Sdk.S3Client; sdk: typeof S3Sdk }> | undefined;
  const connect = () =>
    (client ??= import('@aws-sdk/client-s3').then((sdk) => ({
      sdk,
      s3: new sdk.S3Client({
        region: options.region,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        forcePathStyle: options.forcePathStyle,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    })));

  return {
    async put(key, body, contentType) {
      assertArtifactKey(key);
      const { s3, sdk } = await connect();
      const sha256 = sha256Hex(body);
      await s3.send(
        new sdk.PutObjectCommand({
          Bucket: options.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
          Metadata: { sha256 },
        }),
      );
      return { sizeBytes: body.length, sha256 };
    },

    async get(key) {
      assertArtifactKey(key);
      const { s3, sdk } = await connect();
      try {
        const answer = await s3.send(new sdk.GetObjectCommand({ Bucket: options.bucket, Key: key }));
        if (answer.Body === undefined) return null;
        return {
          // In Node the SDK's body is an http.IncomingMessage (a Readable).
          body: answer.Body as unknown as NodeJS.ReadableStream,
          sizeBytes: answer.ContentLength ?? 0,
          contentType: answer.ContentType ?? 'application/octet-stream',
        };
      } catch (error) {
        if (error instanceof sdk.NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null;
        throw error;
      }
    },

    async delete(keys) {
      for (const key of keys) assertArtifactKey(key);
      if (keys.length === 0) return;
      const { s3, sdk } = await connect();
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const batch = keys.slice(i, i + DELETE_BATCH);
        const answer = await s3.send(
          new sdk.DeleteObjectsCommand({ Bucket: options.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
        );
        const failed = answer.Errors ?? [];
        if (failed.length > 0) {
          throw new Error(`artifact store: S3 did not delete ${failed.length} of ${batch.length} objects (first: ${failed[0]?.Key}: ${failed[0]?.Code} ${failed[0]?.Message})`);
        }
      }
    },

    close() {
      void client?.then(({ s3 }) => s3.destroy());
    },
  };
}
