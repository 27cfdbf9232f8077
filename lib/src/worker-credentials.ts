import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The credentials between the orchestration service and its workers (issue 9, item 14; the decision
 * is in docs/decisions.md "Worker credentials").
 *
 * A worker holds a WORKER TOKEN bound to its worker id: `owk1.<id>.<mac>`, the MAC an HMAC-SHA256 of
 * the id under one of the orchestration service's WORKER_AUTH_SECRETS. It lets the worker call the
 * WorkerRegistry (register, heartbeat, deregister) for that id and nothing else, on no other service.
 * Whoever holds a secret mints tokens (`npm start`, the chart's init container, the worker-token CLI);
 * the worker itself never sees a secret.
 *
 * The orchestration service proves itself to a worker with a DISPATCH TOKEN, `owd1.<mac>` over the
 * worker id: the registry hands each worker the dispatch tokens of every configured secret in its
 * Register and Heartbeat answers, and the worker's gRPC server accepts only those. Neither the
 * services' INTERNAL_TOKEN nor another worker's tokens make a worker execute anything.
 *
 * Rotation: WORKER_AUTH_SECRETS is a list, the first signs, all verify. Add the new secret second,
 * roll the orchestration service (workers learn its dispatch token at their next heartbeat), move it
 * first, roll the workers (their tokens are minted anew at start), then drop the old one.
 */

const WORKER_TOKEN_PREFIX = 'owk1';
const DISPATCH_TOKEN_PREFIX = 'owd1';
const WORKER_LABEL = 'orchestra worker token v1\n';
const DISPATCH_LABEL = 'orchestra dispatch token v1\n';

/** Worker ids the registry accepts (the worker's WORKER_ID rule). */
export const WORKER_ID_PATTERN = /^[\w.:-]{1,128}$/;

/** The shortest secret that may sign worker credentials. */
export const WORKER_AUTH_SECRET_MIN_LENGTH = 32;

const mac = (secret: string, label: string, workerId: string): string => createHmac('sha256', secret).update(label).update(workerId).digest('base64url');

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The worker id a worker token claims, without checking its MAC (a worker reads its own id from it). */
export function workerIdOfToken(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== WORKER_TOKEN_PREFIX) return undefined;
  const id = Buffer.from(parts[1] ?? '', 'base64url').toString('utf8');
  return WORKER_ID_PATTERN.test(id) ? id : undefined;
}

/** Mints a worker token for `workerId` under `secret` (the first of WORKER_AUTH_SECRETS). */
export function mintWorkerToken(secret: string, workerId: string): string {
  if (secret.length < WORKER_AUTH_SECRET_MIN_LENGTH) throw new Error(`a worker auth secret has at least ${WORKER_AUTH_SECRET_MIN_LENGTH} characters`);
  if (!WORKER_ID_PATTERN.test(workerId)) throw new Error(`worker id ${JSON.stringify(workerId)} is not 1-128 letters, digits, . _ : -`);
  return `${WORKER_TOKEN_PREFIX}.${Buffer.from(workerId, 'utf8').toString('base64url')}.${mac(secret, WORKER_LABEL, workerId)}`;
}

/** The orchestration service's side: verifies worker tokens and derives the dispatch tokens it sends. */
export interface WorkerAuthority {
  /** The worker id a token was minted for, or undefined when no configured secret made it. */
  verifyWorkerToken(token: string): string | undefined;
  /** What the dispatcher sends to `workerId` (under the first secret). */
  dispatchToken(workerId: string): string;
  /** Every dispatch token `workerId` should accept (one per configured secret, the signing one first). */
  dispatchTokens(workerId: string): string[];
}

/** Workers whose dispatch token is remembered at once (more, and the memory starts again). */
const MAX_REMEMBERED_DISPATCH_TOKENS = 10_000;

export function createWorkerAuthority(secrets: readonly string[]): WorkerAuthority {
  if (secrets.length === 0) throw new Error('createWorkerAuthority needs at least one secret');
  for (const s of secrets) {
    if (s.length < WORKER_AUTH_SECRET_MIN_LENGTH) throw new Error(`a worker auth secret has at least ${WORKER_AUTH_SECRET_MIN_LENGTH} characters`);
  }
  const dispatch = (secret: string, workerId: string) => `${DISPATCH_TOKEN_PREFIX}.${mac(secret, DISPATCH_LABEL, workerId)}`;
  // The dispatcher sends one with every Execute call: each worker's is computed once (an HMAC a task
  // was ~1% of the dispatcher's CPU on noop fan-outs), for at most MAX_REMEMBERED_DISPATCH_TOKENS workers.
  const signing = new Map<string, string>();
  return {
    verifyWorkerToken(token) {
      const workerId = workerIdOfToken(token);
      if (workerId === undefined) return undefined;
      const sent = token.slice(token.lastIndexOf('.') + 1);
      return secrets.some((secret) => sameText(sent, mac(secret, WORKER_LABEL, workerId))) ? workerId : undefined;
    },
    dispatchToken(workerId) {
      let token = signing.get(workerId);
      if (token === undefined) {
        if (signing.size >= MAX_REMEMBERED_DISPATCH_TOKENS) signing.clear();
        token = dispatch(secrets[0]!, workerId);
        signing.set(workerId, token);
      }
      return token;
    },
    dispatchTokens: (workerId) => secrets.map((secret) => dispatch(secret, workerId)),
  };
}

/**
 * The worker's side: the dispatch tokens the registry told it to accept. Until it has registered it
 * accepts nothing; each answer replaces the set (a rotation reaches it with the next heartbeat).
 */
export interface DispatchTokenSet {
  accept(tokens: readonly string[]): void;
  has(token: string): boolean;
}

export function createDispatchTokenSet(): DispatchTokenSet {
  let accepted: readonly string[] = [];
  return {
    accept(tokens) {
      if (tokens.length > 0) accepted = [...tokens];
    },
    has: (token) => accepted.some((t) => sameText(t, token)),
  };
}
