import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { AppError, withSystemTransaction, type Logger, type Pool, type PoolClient } from '@orchestra/lib';
import { GENESIS_HASH, eventHash, type ChainedEvent } from '../chain/hash';
import { eventRecord } from '../export/format';
import { listChains, tryLockChainRetention } from '../store/chains';
import { insertCheckpoint, latestCheckpoint, type AuditCheckpoint } from '../store/checkpoints';
import { deleteArchivedEvents, eventsInSequenceRange, firstSequenceNotBefore, sequenceBounds } from '../store/events';

export interface RetentionSettings {
  /** Events that occurred longer ago than this are archived and deleted. */
  windowMs: number;
  /** Archives go to `<archiveDir>/<chain>/audit-<chain>-<from>-<through>.jsonl`. */
  archiveDir: string;
  /** Largest archive file (events); a longer expired range becomes several files. */
  maxEventsPerArchive?: number;
}

/** Runs inside the archive's transaction (to record the archive in the audit outbox). */
export type ArchivedHook = (tx: PoolClient, checkpoint: AuditCheckpoint) => Promise<void>;

const PAGE = 1000;
const pad = (n: number) => String(n).padStart(12, '0');

/**
 * Archives the expired prefix of one chain: the events from the last checkpoint up to (not
 * including) the first event that has not expired yet, so what remains is still one unbroken chain
 * that links to the checkpoint's last hash. The file is written and synced, the checkpoint stored
 * and the events deleted in one transaction; the range is verified while it is written, and a
 * broken chain is never archived or deleted (that would destroy the evidence).
 */
export async function archiveChain(
  pool: Pool,
  chain: string,
  cutoff: Date,
  settings: RetentionSettings,
  log: Logger,
  onArchived?: ArchivedHook,
): Promise<AuditCheckpoint | undefined> {
  const maxEvents = settings.maxEventsPerArchive ?? 50_000;
  return withSystemTransaction(pool, async (tx) => {
    if (!(await tryLockChainRetention(tx, chain))) return undefined;
    const previous = await latestCheckpoint(tx, chain);
    const fromSeq = (previous?.throughSeq ?? 0) + 1;
    const bounds = await sequenceBounds(tx, chain);
    if (bounds === undefined || bounds.last < fromSeq) return undefined;
    const firstKept = await firstSequenceNotBefore(tx, chain, fromSeq, cutoff);
    const throughSeq = Math.min(firstKept === undefined ? bounds.last : firstKept - 1, fromSeq + maxEvents - 1);
    if (throughSeq < fromSeq) return undefined;

    const relativeFile = join(chain, `audit-${chain}-${pad(fromSeq)}-${pad(throughSeq)}.jsonl`);
    const file = join(settings.archiveDir, relativeFile);
    const partial = `${file}.partial`;
    await mkdir(dirname(file), { recursive: true });
    const handle = await open(partial, 'w', 0o640);
    const digest = createHash('sha256');
    let expectedSeq = fromSeq;
    let expectedPrev = previous?.lastHash ?? GENESIS_HASH;
    let orgId: string | null = null;
    let firstOccurredAt: Date | undefined;
    let lastOccurredAt: Date | undefined;
    try {
      while (expectedSeq <= throughSeq) {
        const page = await eventsInSequenceRange(tx, chain, expectedSeq, throughSeq, PAGE);
        if (page.length === 0) throw brokenChain(chain, expectedSeq, 'events are missing');
        let chunk = '';
        for (const event of page) {
          if (event.sequence !== expectedSeq) throw brokenChain(chain, expectedSeq, 'events are missing');
          if (event.prevHash !== expectedPrev) throw brokenChain(chain, event.sequence, 'the event does not link to the one before it');
          if (eventHash(event, event.prevHash) !== event.hash) throw brokenChain(chain, event.sequence, 'the event was changed after it was recorded');
          chunk += `${JSON.stringify(eventRecord(event))}\n`;
          orgId = event.orgId;
          firstOccurredAt ??= event.occurredAt;
          lastOccurredAt = event.occurredAt;
          expectedPrev = event.hash;
          expectedSeq += 1;
        }
        digest.update(chunk);
        await handle.write(chunk);
      }
      await handle.sync();
    } catch (error) {
      await handle.close();
      await rm(partial, { force: true });
      throw error;
    }
    await handle.close();
    await rename(partial, file);

    const count = throughSeq - fromSeq + 1;
    const checkpoint = await insertCheckpoint(tx, {
      chain,
      orgId,
      fromSeq,
      throughSeq,
      firstPrevHash: previous?.lastHash ?? GENESIS_HASH,
      lastHash: expectedPrev,
      eventCount: count,
      firstOccurredAt: firstOccurredAt ?? cutoff,
      lastOccurredAt: lastOccurredAt ?? cutoff,
      archiveFile: relativeFile,
      archiveSha256: digest.digest('hex'),
    });
    const deleted = await deleteArchivedEvents(tx, chain, fromSeq, throughSeq);
    if (deleted !== count) throw new Error(`archived ${count} events of chain ${chain} but deleted ${deleted}`);
    if (onArchived) await onArchived(tx, checkpoint);
    log.info('audit events archived', { chain, fromSeq, throughSeq, count, file });
    return checkpoint;
  });
}

const brokenChain = (chain: string, sequence: number, what: string) =>
  new AppError('CONFLICT', `audit chain ${chain} is broken at sequence ${sequence} (${what}): retention will not archive or delete it`, {
    reason: 'AUDIT_CHAIN_BROKEN',
    details: { chain, sequence },
  });

/** Archives every expired range of one chain; resolves to the checkpoints written. */
export async function archiveExpired(
  pool: Pool,
  chain: string,
  cutoff: Date,
  settings: RetentionSettings,
  log: Logger,
  onArchived?: ArchivedHook,
): Promise<AuditCheckpoint[]> {
  const written: AuditCheckpoint[] = [];
  for (;;) {
    const checkpoint = await archiveChain(pool, chain, cutoff, settings, log, onArchived);
    if (checkpoint === undefined) return written;
    written.push(checkpoint);
  }
}

/** One retention pass over every chain. A broken chain is logged and skipped; the others go on. */
export async function runRetention(
  pool: Pool,
  now: Date,
  settings: RetentionSettings,
  log: Logger,
  onArchived?: ArchivedHook,
): Promise<{ archivedEvents: number; files: number; failedChains: string[] }> {
  const cutoff = new Date(now.getTime() - settings.windowMs);
  let archivedEvents = 0;
  let files = 0;
  const failedChains: string[] = [];
  for (const { chain } of await listChains(pool)) {
    try {
      const written = await archiveExpired(pool, chain, cutoff, settings, log, onArchived);
      files += written.length;
      archivedEvents += written.reduce((n, c) => n + c.eventCount, 0);
    } catch (error) {
      failedChains.push(chain);
      log.error('audit retention failed for a chain', { chain, err: error });
    }
  }
  if (files > 0 || failedChains.length > 0) log.info('audit retention pass finished', { cutoff: cutoff.toISOString(), archivedEvents, files, failedChains });
  return { archivedEvents, files, failedChains };
}

export interface ArchiveVerification {
  ok: boolean;
  eventCount: number;
  problem: string | null;
}

/**
 * Checks an archive file against its checkpoint: the file's sha256, that its events chain from the
 * checkpoint's first previous hash, and that the last one ends at the checkpoint's last hash (what
 * the first event still in the database links to). Streams the file line by line.
 */
export async function verifyArchiveFile(archiveDir: string, checkpoint: AuditCheckpoint): Promise<ArchiveVerification> {
  const digest = createHash('sha256');
  let expectedSeq = checkpoint.fromSeq;
  let expectedPrev = checkpoint.firstPrevHash;
  let count = 0;
  const fail = (problem: string): ArchiveVerification => ({ ok: false, eventCount: count, problem });
  const lines = createInterface({ input: createReadStream(join(archiveDir, checkpoint.archiveFile), 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      digest.update(`${line}\n`);
      if (line === '') continue;
      const record = JSON.parse(line) as Record<string, unknown> & { actor: ChainedEvent['actor'] };
      const event: ChainedEvent = {
        id: String(record['id']),
        orgId: (record['orgId'] as string | null) ?? null,
        sequence: Number(record['sequence']),
        occurredAt: new Date(String(record['occurredAt'])),
        service: String(record['service']),
        actor: record.actor,
        action: String(record['action']),
        targetType: String(record['targetType']),
        targetId: String(record['targetId']),
        outcome: String(record['outcome']),
        requestId: String(record['requestId']),
        ip: String(record['ip']),
        userAgent: String(record['userAgent']),
        diff: record['diff'] ?? null,
      };
      if (event.sequence !== expectedSeq) return fail(`expected sequence ${expectedSeq}, found ${event.sequence}`);
      if (record['prevHash'] !== expectedPrev) return fail(`event ${event.sequence} does not link to the one before it`);
      if (eventHash(event, expectedPrev) !== record['hash']) return fail(`event ${event.sequence} was changed after it was archived`);
      expectedPrev = String(record['hash']);
      expectedSeq += 1;
      count += 1;
    }
  } catch (error) {
    return fail(`cannot read the archive: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (count !== checkpoint.eventCount) return fail(`the archive holds ${count} events, the checkpoint says ${checkpoint.eventCount}`);
  if (expectedPrev !== checkpoint.lastHash) return fail('the archive does not end at the checkpoint hash');
  if (digest.digest('hex') !== checkpoint.archiveSha256) return fail('the archive file does not match its recorded sha256');
  return { ok: true, eventCount: count, problem: null };
}
