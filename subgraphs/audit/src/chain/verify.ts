import type { Logger, Queryable } from '@orchestra/lib';
import { GENESIS_HASH, eventHash } from './hash';
import { chainHead } from '../store/chains';
import { checkpointThrough, latestCheckpoint } from '../store/checkpoints';
import { eventAtSequence, eventsInSequenceRange, sequenceBounds, type StoredAuditEvent } from '../store/events';

export type ChainBreakReason =
  /** The event's fields no longer produce its stored hash: the row was edited. */
  | 'HASH_MISMATCH'
  /** The event does not link to the hash of the one before it (that one was edited and re-hashed, or replaced). */
  | 'PREVIOUS_HASH_MISMATCH'
  /** One or more events are missing before this position (deleted outside retention). */
  | 'MISSING_EVENTS';

export interface ChainBreak {
  reason: ChainBreakReason;
  /** The position where the chain breaks. */
  sequence: number;
  /** The event found at that position (none when the events there are missing). */
  eventId: string | null;
  expected: string | null;
  actual: string | null;
  message: string;
}

export interface ChainVerification {
  chain: string;
  ok: boolean;
  checkedEvents: number;
  firstSequence: number | null;
  lastSequence: number | null;
  /** What the first checked event was verified against. */
  anchor: 'GENESIS' | 'PREVIOUS_EVENT' | 'ARCHIVE_CHECKPOINT' | 'NONE';
  break: ChainBreak | null;
}

const PAGE = 1000;

/** The hash event `sequence` must link to, and where that knowledge comes from. */
async function anchorFor(db: Queryable, chain: string, sequence: number): Promise<{ hash: string; anchor: ChainVerification['anchor'] } | undefined> {
  if (sequence === 1) return { hash: GENESIS_HASH, anchor: 'GENESIS' };
  const previous = await eventAtSequence(db, chain, sequence - 1);
  if (previous) return { hash: previous.hash, anchor: 'PREVIOUS_EVENT' };
  const checkpoint = await checkpointThrough(db, chain, sequence - 1);
  if (checkpoint) return { hash: checkpoint.lastHash, anchor: 'ARCHIVE_CHECKPOINT' };
  return undefined;
}

/**
 * Verifies a chain over the events that occurred in [from, to] (the whole chain without bounds):
 * every position from the first such event to the last is present, links to the hash of the one
 * before, and still hashes to its stored hash. Reports the first position where that fails.
 * Reads page by page, so a long range never sits in memory at once.
 */
export async function verifyChain(db: Queryable, chain: string, range: { from?: Date | undefined; to?: Date | undefined }, log?: Logger): Promise<ChainVerification> {
  const result = (partial: Partial<ChainVerification>): ChainVerification => ({
    chain,
    ok: true,
    checkedEvents: 0,
    firstSequence: null,
    lastSequence: null,
    anchor: 'NONE',
    break: null,
    ...partial,
  });
  const bounded = range.from !== undefined || range.to !== undefined;
  const head = await chainHead(db, chain);
  const checkpoint = bounded ? undefined : await latestCheckpoint(db, chain);
  const bounds = await sequenceBounds(db, chain, range.from, range.to);
  if (bounds === undefined) {
    // Nothing stored in range; unbounded, the head still says whether events should be there.
    const archivedThrough = checkpoint?.throughSeq ?? 0;
    if (!bounded && head && head.lastSeq > archivedThrough) {
      return result({
        ok: false,
        break: {
          reason: 'MISSING_EVENTS',
          sequence: archivedThrough + 1,
          eventId: null,
          expected: `${head.lastSeq - archivedThrough} event(s)`,
          actual: 'none',
          message: `events ${archivedThrough + 1} to ${head.lastSeq} of the chain are missing`,
        },
      });
    }
    return result({});
  }
  // Unbounded, start right after the last archive (or at 1) so deletions at the start are caught.
  const first = bounded ? bounds.first : (checkpoint?.throughSeq ?? 0) + 1;
  const last = bounded ? bounds.last : Math.max(bounds.last, head?.lastSeq ?? 0);
  const anchored = await anchorFor(db, chain, first);
  if (anchored === undefined) {
    return result({
      ok: false,
      firstSequence: first,
      break: {
        reason: 'MISSING_EVENTS',
        sequence: first,
        eventId: null,
        expected: `event ${first - 1} or an archive checkpoint ending there`,
        actual: 'none',
        message: `the event before sequence ${first} is missing and no archive checkpoint covers it`,
      },
    });
  }

  let expectedSeq = first;
  let expectedPrev = anchored.hash;
  let checked = 0;
  let lastEventId: string | null = null;
  let progressAt = 50_000;
  const broken = (b: ChainBreak) => result({ ok: false, checkedEvents: checked, firstSequence: first, lastSequence: last, anchor: anchored.anchor, break: b });
  while (expectedSeq <= last) {
    const page: StoredAuditEvent[] = await eventsInSequenceRange(db, chain, expectedSeq, last, PAGE);
    if (page.length === 0) {
      return broken({
        reason: 'MISSING_EVENTS',
        sequence: expectedSeq,
        eventId: null,
        expected: `events ${expectedSeq} to ${last}`,
        actual: 'none',
        message: `events ${expectedSeq} to ${last} of the chain are missing`,
      });
    }
    for (const event of page) {
      if (event.sequence !== expectedSeq) {
        return broken({
          reason: 'MISSING_EVENTS',
          sequence: expectedSeq,
          eventId: event.id,
          expected: `sequence ${expectedSeq}`,
          actual: `sequence ${event.sequence}`,
          message: `events ${expectedSeq} to ${event.sequence - 1} are missing before event ${event.id}`,
        });
      }
      if (event.prevHash !== expectedPrev) {
        return broken({
          reason: 'PREVIOUS_HASH_MISMATCH',
          sequence: event.sequence,
          eventId: event.id,
          expected: expectedPrev,
          actual: event.prevHash,
          message: `event ${event.id} (sequence ${event.sequence}) does not link to the event before it`,
        });
      }
      const recomputed = eventHash(event, event.prevHash);
      if (recomputed !== event.hash) {
        return broken({
          reason: 'HASH_MISMATCH',
          sequence: event.sequence,
          eventId: event.id,
          expected: event.hash,
          actual: recomputed,
          message: `event ${event.id} (sequence ${event.sequence}) was changed after it was recorded`,
        });
      }
      expectedPrev = event.hash;
      expectedSeq += 1;
      checked += 1;
      lastEventId = event.id;
    }
    if (checked >= progressAt) {
      log?.info('audit chain verification in progress', { chain, checked, through: expectedSeq - 1, last });
      progressAt += 50_000;
    }
  }
  // The head is a second copy of the last hash: a rewritten (re-hashed) last event shows here.
  if (!bounded && head && head.lastSeq === last && head.lastHash !== expectedPrev) {
    return broken({
      reason: 'HASH_MISMATCH',
      sequence: last,
      eventId: lastEventId,
      expected: head.lastHash,
      actual: expectedPrev,
      message: `the last event (sequence ${last}) does not match the chain head`,
    });
  }
  return result({ checkedEvents: checked, firstSequence: first, lastSequence: last, anchor: anchored.anchor });
}
