import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { toAppError, unaryCall, verifyArtifactUrl, type ArtifactStore, type Logger, type Metrics, type Principal, type PrincipalSigner } from '@orchestra/lib/gateway';
import type { orchestrationV1 } from '@orchestra/proto';

/**
 * GET /artifacts/<id>?org=&exp=&sig= — the bytes of a task artifact, for whoever holds a download
 * URL orchestration signed (docs/decisions.md "Artifact downloads: signed URLs"). The signature and
 * expiry are checked first; the artifact is then looked up through OrchestrationService.GetArtifact
 * acting for the signed org, so row-level security decides: an artifact of another org is "not
 * found", exactly like an id that does not exist (404 for every refusal of a well-formed URL, never
 * 403: a guessed id learns nothing). A request that also carries a credential of a different org is
 * refused the same way. The bytes are streamed from the artifact store with their content type, as an
 * attachment (inline for images and PDFs), never sniffed, under a CSP that runs nothing.
 */

export interface ArtifactDownloadDeps {
  keys: readonly string[];
  store: ArtifactStore;
  orchestration: orchestrationV1.OrchestrationServiceClient;
  internalToken: string;
  signer: PrincipalSigner;
  log: Logger;
  metrics: Metrics;
  /** The principal of the request's own credential, if it carries one (anonymous otherwise). */
  principalOf(request: FastifyRequest): Promise<Principal>;
  /** Per-IP limit (the anonymous limiter): true when the request may go on. */
  allow(request: FastifyRequest): { allowed: boolean; retryAfterMs: number };
}

/** Shown in the browser (an <img> thumbnail, a PDF tab); everything else downloads. */
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'application/pdf']);
const SAFE_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/** `attachment; filename="a.png"` (names are [A-Za-z0-9._-], so no escaping is needed; checked anyway). */
const dispositionOf = (name: string, contentType: string): string => {
  const safe = /^[A-Za-z0-9._-]{1,100}$/.test(name) ? name : 'artifact';
  return `${INLINE_TYPES.has(contentType) ? 'inline' : 'attachment'}; filename="${safe}"`;
};

export function registerArtifactDownloads(app: FastifyInstance, deps: ArtifactDownloadDeps): void {
  const { keys, store, orchestration, internalToken, signer, log } = deps;
  const served = deps.metrics.counter('artifact_downloads_total', 'Artifact download requests, by outcome', ['outcome']);

  const notFound = (reply: FastifyReply, outcome: string) => {
    served.inc({ outcome });
    return reply.code(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('artifact not found (or the link expired: get a new one from the run page)');
  };

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/artifacts/:id', async (request, reply) => {
    const requestId = request.id;
    const limited = deps.allow(request);
    if (!limited.allowed) {
      served.inc({ outcome: 'rate_limited' });
      return reply.code(429).header('retry-after', String(Math.max(1, Math.ceil(limited.retryAfterMs / 1000)))).send('too many requests');
    }
    const check = verifyArtifactUrl(keys, { id: request.params.id, org: request.query['org'], exp: request.query['exp'], sig: request.query['sig'] });
    if (!check.ok) {
      log.info('artifact download refused', { requestId, reason: check.reason });
      return notFound(reply, check.reason.toLowerCase());
    }
    const { artifactId, orgId } = check.grant;
    // A caller signed in to another organization does not get this org's bytes, even with its URL.
    let caller: Principal;
    try {
      caller = await deps.principalOf(request);
    } catch (error) {
      log.info('artifact download refused', { requestId, artifactId, reason: 'BAD_CREDENTIAL', code: toAppError(error).code });
      return notFound(reply, 'bad_credential');
    }
    if (caller.kind !== 'anonymous' && caller.orgId !== orgId) {
      log.info('artifact download refused', { requestId, artifactId, reason: 'OTHER_ORGANIZATION', callerOrgId: caller.orgId });
      return notFound(reply, 'other_org');
    }
    let artifact: orchestrationV1.GetArtifactResponse['artifact'];
    try {
      const principal: Principal = { kind: 'service', id: 'gateway:artifact-download', orgId, scopes: [], requestId, ip: request.ip };
      const answer = await unaryCall(orchestration, orchestration.getArtifact, { artifactId }, { internalToken }, { principalHeader: await signer.sign(principal), requestId, deadlineMs: 5_000 });
      artifact = answer.artifact;
    } catch (error) {
      const appError = toAppError(error);
      if (appError.code === 'NOT_FOUND') {
        log.info('artifact download refused', { requestId, artifactId, orgId, reason: 'NOT_FOUND' });
        return notFound(reply, 'not_found');
      }
      log.warn('artifact lookup failed', { err: error, requestId, artifactId, orgId });
      served.inc({ outcome: 'unavailable' });
      return reply.code(503).header('retry-after', '1').send('artifacts are unavailable right now');
    }
    // The row is the org's (row-level security); its key must be under the org's prefix too.
    if (!artifact || artifact.orgId !== orgId || !artifact.storageKey.startsWith(`${orgId}/`)) return notFound(reply, 'not_found');
    const object = await store.get(artifact.storageKey);
    if (!object) {
      log.warn('artifact recorded but not in the store', { requestId, artifactId, orgId, storageKey: artifact.storageKey });
      return notFound(reply, 'missing_object');
    }
    const contentType = SAFE_TYPE.test(artifact.contentType) ? artifact.contentType : 'application/octet-stream';
    served.inc({ outcome: 'served' });
    log.info('artifact served', { requestId, artifactId, orgId, sizeBytes: object.sizeBytes });
    void reply
      .header('content-type', contentType)
      .header('content-length', String(object.sizeBytes))
      .header('content-disposition', dispositionOf(artifact.name, contentType))
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox")
      .header('cache-control', 'private, max-age=60')
      .header('etag', `"${artifact.sha256}"`)
      .header('referrer-policy', 'no-referrer');
    return reply.send(object.body);
  });
}
