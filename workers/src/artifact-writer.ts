import { NonRetryableError, artifactKey, checkArtifactSize, type ArtifactLimits, type ArtifactStore } from '@orchestra/lib/worker';
import type { automationV1 } from '@orchestra/proto';

/** An artifact as the executor's output and the Execute stream describe it. */
export interface StoredArtifact {
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
}

/** Stores one attempt's files: checks its names and limits, writes through the store, reports each. */
export interface AttemptArtifacts {
  store(name: string, body: Buffer, contentType: string): Promise<StoredArtifact>;
  /** What was stored so far, in order. */
  list(): StoredArtifact[];
}

export interface AttemptArtifactsOptions {
  store: ArtifactStore | undefined;
  limits: ArtifactLimits;
  request: Pick<automationV1.ExecuteRequest, 'orgId' | 'runId' | 'taskId' | 'attemptId'>;
  /** Sent on the Execute stream as soon as the object is stored. */
  report(artifact: automationV1.Artifact): void;
}

/**
 * The artifact writer of one attempt. A name is stored once per attempt; the sizes count against
 * ARTIFACT_MAX_BYTES / ARTIFACT_MAX_ATTEMPT_BYTES before anything is written (ARTIFACT_TOO_LARGE).
 */
export function createAttemptArtifacts({ store, limits, request, report }: AttemptArtifactsOptions): AttemptArtifacts {
  const stored: StoredArtifact[] = [];
  const names = new Set<string>();
  let bytes = 0;
  return {
    async store(name, body, contentType) {
      if (store === undefined) throw new NonRetryableError('NO_ARTIFACT_STORE', 'this worker has no artifact store configured');
      const key = artifactKey({ orgId: request.orgId, runId: request.runId, taskId: request.taskId, attemptId: request.attemptId, name });
      if (names.has(name)) throw new NonRetryableError('DUPLICATE_ARTIFACT', `artifact ${name} was already stored by this attempt (names are unique per attempt)`);
      checkArtifactSize(name, body.length, bytes, limits);
      names.add(name);
      bytes += body.length;
      const { sizeBytes, sha256 } = await store.put(key, body, contentType);
      const artifact = { name, contentType, sizeBytes, sha256 };
      stored.push(artifact);
      report({ ...artifact, storageKey: key });
      return artifact;
    },
    list: () => [...stored],
  };
}
