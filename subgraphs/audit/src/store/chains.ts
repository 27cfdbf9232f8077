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

/** Creates the chain's head at genesis if it has none yet. */
export async function ensureChain(db: Queryable, chain: string, orgId: string | null): Promise<void> {
  await db.query('INSERT INTO audit_chains (chain, org_id) VALUES ($1, $2) ON CONFLICT (chain) DO NOTHING', [chain, orgId]);
}

/** The head, locked until the transaction ends: appends to one chain happen one at a time. */
export async function lockChain(db: Queryable, chain: string): Promise<ChainHead> {
  const { rows } = await db.query<ChainRow>('SELECT chain, org_id, last_seq, last_hash FROM audit_chains WHERE chain = $1 FOR UPDATE', [chain]);
  if (rows[0] === undefined) throw new Error(`audit chain ${chain} has no head`);
  return toHead(rows[0]);
}

export async function advanceChain(db: Queryable, chain: string, lastSeq: number, lastHash: string): Promise<void> {
  await db.query('UPDATE audit_chains SET last_seq = $2, last_hash = $3, updated_at = now() WHERE chain = $1', [chain, lastSeq, lastHash]);
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
