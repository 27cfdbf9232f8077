import type { Queryable } from '@orchestra/lib';

export interface ChainHead {
  chain: string;
  orgId: string | null;
  lastSeq: number;
  lastHash: string;
}

interface ChainRow {
  chain: string;
  org_id: string | null;
  last_seq: string;
  last_hash: string;
}

const toHead = (row: ChainRow): ChainHead => ({ chain: row.chain, orgId: row.org_id, lastSeq: Number(row.last_seq), lastHash: row.last_hash });

/** Creates the heads of these chains at genesis where they have none yet (one statement). */
export async function ensureChains(db: Queryable, chains: ReadonlyArray<{ chain: string; orgId: string | null }>): Promise<void> {
  if (chains.length === 0) return;
  await db.query('INSERT INTO audit_chains (chain, org_id) SELECT * FROM unnest($1::text[], $2::uuid[]) ON CONFLICT (chain) DO NOTHING', [
    chains.map((c) => c.chain),
    chains.map((c) => c.orgId),
  ]);
}

/**
 * The heads of these chains, locked until the transaction ends, in chain order (so concurrent
 * batches cannot deadlock on heads); a chain with no head yet is missing from the answer.
 */
export async function lockChains(db: Queryable, chains: readonly string[]): Promise<Map<string, ChainHead>> {
  if (chains.length === 0) return new Map();
  const { rows } = await db.query<ChainRow>('SELECT chain, org_id, last_seq, last_hash FROM audit_chains WHERE chain = ANY($1::text[]) ORDER BY chain FOR UPDATE', [[...chains]]);
  return new Map(rows.map((r) => [r.chain, toHead(r)]));
}

/** Moves several heads on (one statement). */
export async function advanceChains(db: Queryable, heads: ReadonlyArray<{ chain: string; lastSeq: number; lastHash: string }>): Promise<void> {
  if (heads.length === 0) return;
  await db.query(
    `UPDATE audit_chains c SET last_seq = h.last_seq, last_hash = h.last_hash, updated_at = now()
       FROM unnest($1::text[], $2::bigint[], $3::text[]) AS h(chain, last_seq, last_hash) WHERE c.chain = h.chain`,
    [heads.map((h) => h.chain), heads.map((h) => h.lastSeq), heads.map((h) => h.lastHash)],
  );
}

export async function chainHead(db: Queryable, chain: string): Promise<ChainHead | undefined> {
  const { rows } = await db.query<ChainRow>('SELECT chain, org_id, last_seq, last_hash FROM audit_chains WHERE chain = $1', [chain]);
  return rows[0] === undefined ? undefined : toHead(rows[0]);
}

export async function listChains(db: Queryable): Promise<ChainHead[]> {
  const { rows } = await db.query<ChainRow>('SELECT chain, org_id, last_seq, last_hash FROM audit_chains ORDER BY chain');
  return rows.map(toHead);
}

/** Only one retention run works on a chain at a time (across replicas); false when another holds it. */
export async function tryLockChainRetention(db: Queryable, chain: string): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext('orchestra-audit-retention:' || $1)) AS locked", [chain]);
  return rows[0]?.locked === true;
}
