import type { Logger, Queryable } from '@orchestra/lib';
import { GENESIS_HASH, eventHash } from './hash';
import { chainHead } from '../store/chains';
import { checkpointThrough, latestCheckpoint } from '../store/checkpoints';
import { eventAtSequence, eventsInSequenceRange, sequenceBounds, type StoredAuditEvent } from '../store/events';
import type { ChainWitness } from './witness';

export type ChainBreakReason =
  /** The event's fields no longer produce its stored hash: the row was edited. */
  | 'HASH_MISMATCH'
  /** The event does not link to the hash of the one before it (that one was edited and re-hashed, or replaced). */
  | 'PREVIOUS_HASH_MISMATCH'
  /** One or more events are missing before this position (deleted outside retention). */
  | 'MISSING_EVENTS'
  /** The event's hash differs from the head witnessed outside the database at that position: the chain was rewritten (and re-hashed) there or earlier. */
  | 'WITNESS_MISMATCH';

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
  /** How many heads witnessed outside the database were compared with the events checked. */
  witnessedHeadsChecked: number;
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
export async function verifyChain(
  db: Queryable,
  chain: string,
  range: { from?: Date | undefined; to?: Date | undefined },
  log?: Logger,
  witness: ChainWitness = { heads: [] },
): Promise<ChainVerification> {
  const result = (partial: Partial<ChainVerification>): ChainVerification => ({
    chain,
    ok: true,
    checkedEvents: 0,
    firstSequence: null,
    lastSequence: null,
    anchor: 'NONE',
    witnessedHeadsChecked: 0,
    break: null,
    ...partial,
  });
  const bounded = range.from !== undefined || range.to !== undefined;
  const head = await chainHead(db, chain);
  const checkpoint = bounded ? undefined : await latestCheckpoint(db, chain);
  const bounds = await sequenceBounds(db, chain, range.from, range.to);
  // The chain must reach the last witnessed head: a chain cut short, its head rewound, ends before it.
  const lastWitnessed = witness.heads.at(-1);
  const witnessedEnd = lastWitnessed?.seq ?? 0;
  const beyondHead = (seq: number) =>
    lastWitnessed !== undefined && seq > (head?.lastSeq ?? 0) ? ` (the chain was witnessed outside the database at sequence ${lastWitnessed.seq} on ${lastWitnessed.at})` : '';
  if (bounds === undefined) {
    // Nothing stored in range; unbounded, the head (and the witness) still say whether events should be there.
    const archivedThrough = checkpoint?.throughSeq ?? 0;
    const end = Math.max(head?.lastSeq ?? 0, witnessedEnd);
    if (!bounded && end > archivedThrough) {
      return result({
        ok: false,
        break: {
          reason: 'MISSING_EVENTS',
          sequence: archivedThrough + 1,
          eventId: null,
          expected: `${end - archivedThrough} event(s)`,
          actual: 'none',
          message: `events ${archivedThrough + 1} to ${end} of the chain are missing${beyondHead(end)}`,
        },
      });
    }
    return result({});
  }
  // Unbounded, start right after the last archive (or at 1) so deletions at the start are caught.
  const first = bounded ? bounds.first : (checkpoint?.throughSeq ?? 0) + 1;
  const last = bounded ? bounds.last : Math.max(bounds.last, head?.lastSeq ?? 0, witnessedEnd);
  const witnessedAt = new Map<number, Array<{ hash: string; at: string }>>();
  for (const w of witness.heads) {
    if (w.seq >= first && w.seq <= last) witnessedAt.set(w.seq, [...(witnessedAt.get(w.seq) ?? []), { hash: w.hash, at: w.at }]);
  }
  let witnessesChecked = 0;
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
  const broken = (b: ChainBreak) =>
    result({ ok: false, checkedEvents: checked, firstSequence: first, lastSequence: last, anchor: anchored.anchor, witnessedHeadsChecked: witnessesChecked, break: b });
  while (expectedSeq <= last) {
    const page: StoredAuditEvent[] = await eventsInSequenceRange(db, chain, expectedSeq, last, PAGE);
    if (page.length === 0) {
      return broken({
        reason: 'MISSING_EVENTS',
        sequence: expectedSeq,
        eventId: null,
        expected: `events ${expectedSeq} to ${last}`,
        actual: 'none',
        message: `events ${expectedSeq} to ${last} of the chain are missing${beyondHead(last)}`,
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
      for (const seen of witnessedAt.get(event.sequence) ?? []) {
        witnessesChecked += 1;
        if (seen.hash !== event.hash) {
          return broken({
            reason: 'WITNESS_MISMATCH',
            sequence: event.sequence,
            eventId: event.id,
            expected: seen.hash,
            actual: event.hash,
            message: `event ${event.id} (sequence ${event.sequence}) is not the event witnessed outside the database at that position on ${seen.at}: the chain was rewritten and re-hashed at or before sequence ${event.sequence}`,
          });
        }
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
  return result({ checkedEvents: checked, firstSequence: first, lastSequence: last, anchor: anchored.anchor, witnessedHeadsChecked: witnessesChecked });
}
