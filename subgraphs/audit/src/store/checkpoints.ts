import type { Queryable } from '@orchestra/lib';

/** A range of a chain that retention archived to a file and deleted. */
export interface AuditCheckpoint {
  id: number;
  chain: string;
  orgId: string | null;
  fromSeq: number;
  throughSeq: number;
  /** What event fromSeq linked to. */
  firstPrevHash: string;
  /** The hash of event throughSeq: what the first remaining event links to. */
  lastHash: string;
  eventCount: number;
  firstOccurredAt: Date;
  lastOccurredAt: Date;
  archiveFile: string;
  archiveSha256: string;
  archivedAt: Date;
}

interface CheckpointRow {
  id: string;
  chain: string;
  org_id: string | null;
  from_seq: string;
  through_seq: string;
  first_prev_hash: string;
  last_hash: string;
  event_count: string;
  first_occurred_at: Date;
  last_occurred_at: Date;
  archive_file: string;
  archive_sha256: string;
  archived_at: Date;
}

const COLUMNS = `id, chain, org_id, from_seq, through_seq, first_prev_hash, last_hash, event_count, first_occurred_at,
  last_occurred_at, archive_file, archive_sha256, archived_at`;

const toCheckpoint = (row: CheckpointRow): AuditCheckpoint => ({
  id: Number(row.id),
  chain: row.chain,
  orgId: row.org_id,
  fromSeq: Number(row.from_seq),
  throughSeq: Number(row.through_seq),
  firstPrevHash: row.first_prev_hash,
  lastHash: row.last_hash,
  eventCount: Number(row.event_count),
  firstOccurredAt: row.first_occurred_at,
  lastOccurredAt: row.last_occurred_at,
  archiveFile: row.archive_file,
  archiveSha256: row.archive_sha256,
  archivedAt: row.archived_at,
});

export async function latestCheckpoint(db: Queryable, chain: string): Promise<AuditCheckpoint | undefined> {
  const { rows } = await db.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE chain = $1 ORDER BY through_seq DESC LIMIT 1`, [chain]);
  return rows[0] === undefined ? undefined : toCheckpoint(rows[0]);
}

/** The checkpoint whose archive ends at `throughSeq`, if any. */
export async function checkpointThrough(db: Queryable, chain: string, throughSeq: number): Promise<AuditCheckpoint | undefined> {
  const { rows } = await db.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE chain = $1 AND through_seq = $2`, [chain, throughSeq]);
  return rows[0] === undefined ? undefined : toCheckpoint(rows[0]);
}

export async function listCheckpoints(db: Queryable, chain: string): Promise<AuditCheckpoint[]> {
  const { rows } = await db.query<CheckpointRow>(`SELECT ${COLUMNS} FROM audit_checkpoints WHERE chain = $1 ORDER BY through_seq DESC`, [chain]);
  return rows.map(toCheckpoint);
}

export async function insertCheckpoint(db: Queryable, checkpoint: Omit<AuditCheckpoint, 'id' | 'archivedAt'>): Promise<AuditCheckpoint> {
  const { rows } = await db.query<CheckpointRow>(
    `INSERT INTO audit_checkpoints (chain, org_id, from_seq, through_seq, first_prev_hash, last_hash, event_count,
       first_occurred_at, last_occurred_at, archive_file, archive_sha256)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     RETURNING ${COLUMNS}`,
    [
      checkpoint.chain,
      checkpoint.orgId,
      checkpoint.fromSeq,
      checkpoint.throughSeq,
      checkpoint.firstPrevHash,
      checkpoint.lastHash,
      checkpoint.eventCount,
      checkpoint.firstOccurredAt,
      checkpoint.lastOccurredAt,
      checkpoint.archiveFile,
      checkpoint.archiveSha256,
    ],
  );
  return toCheckpoint(rows[0]!);
}
