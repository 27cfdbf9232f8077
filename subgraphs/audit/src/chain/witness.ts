import { open, readdir, readFile, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@orchestra/lib';

/**
 * Chain heads copied outside the database. Hash links detect an edit only if nobody recomputed the
 * hashes after it; someone who can write the database could rewrite an event and every hash after
 * it, head included, or cut the end of a chain and rewind its head. A witness line records, away
 * from the database, that chain C had hash H at sequence N at time T: a rewrite of any event up to N
 * then shows as a mismatch at N, and a cut as a chain that ends before N.
 *
 * Lines are appended (and fsynced) to `<dir>/<chain>/witness-<host>.jsonl`: a folder per chain,
 * so verifying one reads only its own lines, and a file per host, so replicas sharing a volume never
 * interleave writes; every line is also logged, so a log pipeline
 * keeps a second copy. Point the directory at storage the database's administrators cannot write.
 */
export interface WitnessLine {
  chain: string;
  seq: number;
  hash: string;
  at: string;
}

/** What the witness files say of one chain: the hash seen at each witnessed sequence. */
export interface ChainWitness {
  /** Witnessed heads by sequence, ascending (a sequence seen with two hashes appears twice). */
  heads: Array<{ seq: number; hash: string; at: string }>;
}

export interface Witness {
  dir: string;
  /** Appends one line per head (fsynced before it returns). */
  record(heads: Array<{ chain: string; seq: number; hash: string }>): Promise<void>;
  /** Every line about `chain` in every witness file of the directory. */
  read(chain: string): Promise<ChainWitness>;
  /** The highest witnessed sequence of each chain (to witness only heads that moved since). */
  latest(): Promise<Map<string, number>>;
}

const HASH = /^[0-9a-f]{64}$/;

const parseLine = (text: string): WitnessLine | undefined => {
  try {
    const v = JSON.parse(text) as Partial<WitnessLine>;
    if (typeof v.chain === 'string' && Number.isInteger(v.seq) && typeof v.hash === 'string' && HASH.test(v.hash) && typeof v.at === 'string') {
      return { chain: v.chain, seq: v.seq!, hash: v.hash, at: v.at };
    }
  } catch {
    // not JSON: reported below
  }
  return undefined;
};

export function createWitness({ dir, log, now = () => new Date() }: { dir: string; log?: Logger | undefined; now?: () => Date }): Witness {
  const fileName = `witness-${hostname().replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`;
  // One folder per chain (an org id, or "platform"), so verifying a chain reads only its own lines.
  const chainDir = (chain: string): string => {
    if (!/^[A-Za-z0-9-]+$/.test(chain)) throw new Error(`not a chain name: ${JSON.stringify(chain)}`);
    return join(dir, chain);
  };
  const entries = async (folder: string): Promise<string[]> => {
    try {
      return (await readdir(folder)).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  };

  async function* lines(chain: string): AsyncGenerator<WitnessLine> {
    const folder = chainDir(chain);
    for (const name of (await entries(folder)).filter((n) => n.startsWith('witness-') && n.endsWith('.jsonl'))) {
      const text = await readFile(join(folder, name), 'utf8');
      let lineNo = 0;
      for (const raw of text.split('\n')) {
        lineNo += 1;
        if (raw.trim() === '') continue;
        const line = parseLine(raw);
        if (line && line.chain === chain) yield line;
        else log?.warn('unreadable audit witness line skipped', { file: join(folder, name), line: lineNo });
      }
    }
  }

  const append = async (chain: string, body: string): Promise<string> => {
    const folder = chainDir(chain);
    await mkdir(folder, { recursive: true });
    const file = join(folder, fileName);
    const handle = await open(file, 'a', 0o640);
    try {
      await handle.write(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return file;
  };

  return {
    dir,
    async record(heads) {
      const at = now().toISOString();
      for (const h of heads) {
        const file = await append(h.chain, `${JSON.stringify({ chain: h.chain, seq: h.seq, hash: h.hash, at })}\n`);
        log?.info('audit chain head witnessed', { chain: h.chain, seq: h.seq, hash: h.hash, witnessFile: file });
      }
    },
    async read(chain) {
      // Every distinct (sequence, hash) sighting is kept: a later line cannot launder an earlier one.
      const seen = new Map<string, { seq: number; hash: string; at: string }>();
      for await (const line of lines(chain)) {
        const key = `${line.seq} ${line.hash}`;
        if (!seen.has(key)) seen.set(key, { seq: line.seq, hash: line.hash, at: line.at });
      }
      return { heads: [...seen.values()].sort((a, b) => a.seq - b.seq) };
    },
    async latest() {
      const out = new Map<string, number>();
      for (const chain of await entries(dir)) {
        if (!/^[A-Za-z0-9-]+$/.test(chain)) continue;
        for await (const line of lines(chain)) out.set(chain, Math.max(out.get(chain) ?? 0, line.seq));
      }
      return out;
    },
  };
}
