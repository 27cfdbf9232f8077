import type { Logger, Queryable } from '@orchestra/lib';
import { verifyArchiveFile, type ArchiveVerification } from '../retention/archive';
import { listCheckpoints } from '../store/checkpoints';
import { verifyChain, type ChainVerification } from './verify';
import type { Witness } from './witness';

export interface ChainCheck {
  ok: boolean;
  chain: ChainVerification;
  archives: Array<ArchiveVerification & { file: string; fromSeq: number; throughSeq: number }>;
}

/**
 * The whole story of one chain, for operators: what is in the database (from the last checkpoint)
 * and every archive file retention wrote for it. Works for any chain, "platform" included, which no
 * tenant can query.
 */
export async function checkChain(db: Queryable, chain: string, archiveDir: string, witness: Witness, log?: Logger): Promise<ChainCheck> {
  const verification = await verifyChain(db, chain, {}, log, await witness.read(chain));
  const archives: ChainCheck['archives'] = [];
  for (const checkpoint of (await listCheckpoints(db, chain)).reverse()) {
    const result = await verifyArchiveFile(archiveDir, checkpoint);
    archives.push({ ...result, file: checkpoint.archiveFile, fromSeq: checkpoint.fromSeq, throughSeq: checkpoint.throughSeq });
  }
  return { ok: verification.ok && archives.every((a) => a.ok), chain: verification, archives };
}
