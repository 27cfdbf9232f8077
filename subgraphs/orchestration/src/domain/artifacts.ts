import { ARTIFACT_NAME, ARTIFACT_TOO_LARGE, artifactKey, type ArtifactLimits } from '@orchestra/lib';

/**
 * The artifacts a worker reports on an attempt's Execute stream (issue 8), checked before they are
 * recorded. A worker is trusted to have stored the bytes, not to name them: every report must carry
 * the storage key this attempt's artifact of that name has (so no row can point at another
 * organization's or attempt's object), a well-formed name and sha256, and fit the size limits,
 * which are re-checked here (per artifact and per attempt) whatever the worker did.
 */

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Artifacts one attempt may record; the reports past it are ignored (and their objects deleted). */
export const MAX_ARTIFACTS_PER_ATTEMPT = 200;
/** Printable ASCII, 1..200 characters (no NUL or control character reaches a row or a header). */
const CONTENT_TYPE = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;

/** One Artifact message of an Execute stream (proto automation.v1.Artifact). */
export interface ReportedArtifact {
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  storageKey: string;
}

/** Where an attempt's objects live: `<orgId>/<runId>/<taskId>/<attemptId>/<name>` (the contract's artifactKey). */
export interface AttemptPlace {
  orgId: string;
  runId: string;
  taskId: string;
  attemptId: string;
}


/** What to do with an attempt's reports. */
export interface ArtifactVerdict {
  /** To record, in the order they came. */
  accepted: ReportedArtifact[];
  /** Well-placed objects not recorded (over a limit, a duplicate name, past the count): delete them from the store. */
  discardKeys: string[];
  /** Reports ignored outright (malformed or pointing elsewhere), with why; their keys are never touched. */
  rejected: Array<{ name: string; reason: string }>;
  /** Set when a size limit was exceeded: the attempt fails with it (not retryable). */
  tooLarge?: { code: typeof ARTIFACT_TOO_LARGE; message: string; retryable: false };
}

const formatBytes = (n: number): string => (n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB (${n} bytes)` : `${n} bytes`);

export function checkReportedArtifacts(reports: readonly ReportedArtifact[], place: AttemptPlace, limits: ArtifactLimits): ArtifactVerdict {
  const verdict: ArtifactVerdict = { accepted: [], discardKeys: [], rejected: [] };
  // A later report of a name wins: the worker wrote the object again under the same key.
  const latest = new Map<string, ReportedArtifact>();
  for (const report of reports) latest.set(String(report.name), report);
  let total = 0;
  for (const report of latest.values()) {
    const name = String(report.name);
    if (!ARTIFACT_NAME.test(name) || name === '.' || name === '..') {
      verdict.rejected.push({ name: name.slice(0, 120), reason: 'the name must match ^[A-Za-z0-9._-]{1,100}$' });
      continue;
    }
    const key = artifactKey({ ...place, name });
    if (report.storageKey !== key) {
      verdict.rejected.push({ name, reason: `its storage key is not this attempt's (${key})` });
      continue;
    }
    const size = Number(report.sizeBytes);
    if (!SHA256_HEX.test(report.sha256) || !Number.isSafeInteger(size) || size < 0 || !CONTENT_TYPE.test(report.contentType)) {
      verdict.rejected.push({ name, reason: 'a malformed report (sha256 lowercase hex, size a non-negative integer, content type 1..200 printable ASCII characters)' });
      verdict.discardKeys.push(key);
      continue;
    }
    if (verdict.accepted.length >= MAX_ARTIFACTS_PER_ATTEMPT) {
      verdict.rejected.push({ name, reason: `an attempt records at most ${MAX_ARTIFACTS_PER_ATTEMPT} artifacts` });
      verdict.discardKeys.push(key);
      continue;
    }
    if (size > limits.maxBytes) {
      verdict.discardKeys.push(key);
      verdict.tooLarge ??= { code: ARTIFACT_TOO_LARGE, message: `artifact "${name}" is ${formatBytes(size)}, over the limit of ${formatBytes(limits.maxBytes)} per artifact (ARTIFACT_MAX_BYTES)`, retryable: false };
      continue;
    }
    if (total + size > limits.maxAttemptBytes) {
      verdict.discardKeys.push(key);
      verdict.tooLarge ??= {
        code: ARTIFACT_TOO_LARGE,
        message: `artifact "${name}" brings the attempt's artifacts to ${formatBytes(total + size)}, over the limit of ${formatBytes(limits.maxAttemptBytes)} per attempt (ARTIFACT_MAX_ATTEMPT_BYTES)`,
        retryable: false,
      };
      continue;
    }
    total += size;
    verdict.accepted.push({ ...report, name, sizeBytes: size });
  }
  return verdict;
}
