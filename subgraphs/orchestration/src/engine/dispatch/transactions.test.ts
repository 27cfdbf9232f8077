import { randomUUID } from 'node:crypto';
import { createMemoryLogger } from '@orchestra/lib';
import type { TaskRow } from '../../store/rows';
import type { AttemptJob } from '../task-queues';
import type { TransitionContext } from '../transitions';
import type { Claim } from './claim-policy';
import type { DispatchChange } from './commits';
import type { AttemptResult, ResultApplied } from './results';
import { createDispatchTransactions } from './transactions';

/**
 * Claims and results pending together go in one transaction, results first (a result frees the slot a
 * claim of the same transaction takes), their runs locked once by the statement sent with the BEGIN;
 * a failed transaction is applied again one request at a time. The transactions here are fakes that
 * record what each was given and end when the test says.
 */

interface Tx {
  first: string | undefined;
  /** What ran inside, in order: 'results:<attempt ids>' and 'claims:<attempt ids>'. */
  steps: string[];
  end: () => void;
  fail: (error: Error) => void;
}

function fakeTransactions() {
  const txs: Tx[] = [];
  const change: DispatchChange = <T>(fn: (ctx: TransitionContext, firstRows?: Array<Record<string, unknown>>) => Promise<T>, first?: string) =>
    new Promise<T>((resolve, reject) => {
      const tx: Tx = { first, steps: [], end: () => undefined, fail: () => undefined };
      txs.push(tx);
      const ctx = { tx } as unknown as TransitionContext;
      const ran = fn(ctx, first === undefined ? undefined : []);
      tx.end = () => void ran.then(resolve, reject);
      tx.fail = (error) => void ran.then(() => reject(error), reject);
    });
  const stepsOf = (ctx: TransitionContext) => (ctx.tx as unknown as Tx).steps;
  const transactions = createDispatchTransactions({
    change,
    claimsIn: (ctx, jobs) => {
      stepsOf(ctx).push(`claims:${jobs.map((j) => j.attemptId).join(',')}`);
      return Promise.resolve(jobs.map((j): Claim => ({ kind: 'drop', reason: `claimed ${j.attemptId}` })));
    },
    resultsIn: (ctx, results) => {
      stepsOf(ctx).push(`results:${results.map((r) => r.attemptId).join(',')}`);
      return Promise.resolve(results.map((r): ResultApplied => ({ applied: true, reason: `applied ${r.attemptId}` })));
    },
    log: createMemoryLogger('dispatch-transactions-test'),
  });
  return { txs, transactions };
}

const job = (attemptId: string, runId: string = randomUUID()): AttemptJob => ({ attemptId, runId, taskId: randomUUID(), orgId: randomUUID(), pool: 'default' });
const result = (attemptId: string, runId: string = randomUUID()): AttemptResult => ({
  runId,
  attemptId,
  task: { id: randomUUID() } as TaskRow,
  outcome: { kind: 'succeeded', output: null, durationMs: 0 },
  record: () => Promise.resolve(),
});
const tick = () => new Promise((r) => setImmediate(r));

describe('dispatch transactions', () => {
  it('applies the claims and results that arrived while transactions ran in one transaction, results first, each caller answered', async () => {
    const { txs, transactions } = fakeTransactions();
    // Two transactions at once (BATCHES_AT_ONCE) take the first two requests.
    const c1 = transactions.claim(job('c1'));
    const r1 = transactions.applyResult(result('r1'));
    await tick();
    expect(txs.map((t) => t.steps)).toEqual([['claims:c1'], ['results:r1']]);
    const run = randomUUID();
    const c2 = transactions.claim(job('c2', run));
    const r2 = transactions.applyResult(result('r2', run));
    const c3 = transactions.claim(job('c3'));
    const r3 = transactions.applyResult(result('r3'));
    await tick();
    expect(txs).toHaveLength(2);
    txs[0]!.end();
    await tick();
    expect(txs).toHaveLength(3);
    expect(txs[2]!.steps).toEqual(['results:r2,r3', 'claims:c2,c3']);
    // One run of a claim and a result: locked once, with the BEGIN.
    expect(txs[2]!.first?.split(run)).toHaveLength(2);
    for (const tx of txs) tx.end();
    expect(await c1).toEqual({ kind: 'drop', reason: 'claimed c1' });
    expect(await r1).toEqual({ applied: true, reason: 'applied r1' });
    expect(await Promise.all([c2, c3])).toEqual([
      { kind: 'drop', reason: 'claimed c2' },
      { kind: 'drop', reason: 'claimed c3' },
    ]);
    expect(await Promise.all([r2, r3])).toEqual([
      { applied: true, reason: 'applied r2' },
      { applied: true, reason: 'applied r3' },
    ]);
    // Six requests, three transactions (before: a claim stream and a result stream, four).
    expect(txs).toHaveLength(3);
  });

  it('locks the runs of the claims and of the results with the BEGIN', async () => {
    const { txs, transactions } = fakeTransactions();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    void transactions.claim(job('hold-1'));
    void transactions.claim(job('hold-2'));
    const claimed = transactions.claim(job('c', a));
    const applied = transactions.applyResult(result('r', b));
    const other = transactions.applyResult(result('r2', c));
    await tick();
    txs[0]!.end();
    await tick();
    const tx = txs[2]!;
    for (const id of [a, b, c]) expect(tx.first).toContain(id);
    for (const t of txs) t.end();
    await Promise.all([claimed, applied, other]);
  });

  it('applies a failed transaction again one request at a time, each in its own', async () => {
    const { txs, transactions } = fakeTransactions();
    void transactions.claim(job('hold-1'));
    void transactions.claim(job('hold-2'));
    const claimed = transactions.claim(job('c'));
    const applied = transactions.applyResult(result('r'));
    await tick();
    txs[0]!.end();
    await tick();
    expect(txs[2]!.steps).toEqual(['results:r', 'claims:c']);
    txs[2]!.fail(new Error('serialization failure'));
    for (let i = 0; i < 5; i += 1) {
      await tick();
      for (const t of txs.slice(3)) t.end();
    }
    txs[1]!.end();
    expect(await claimed).toEqual({ kind: 'drop', reason: 'claimed c' });
    expect(await applied).toEqual({ applied: true, reason: 'applied r' });
    expect(txs.slice(3).map((t) => t.steps)).toEqual([['claims:c'], ['results:r']]);
  });

  it('applies a result and the claim riding with it in one transaction, the claim after every result, even one by one', async () => {
    const { txs, transactions } = fakeTransactions();
    void transactions.claim(job('hold-1'));
    void transactions.claim(job('hold-2'));
    const [ra, ca] = [randomUUID(), randomUUID()];
    const paired = transactions.applyResultWithClaim(result('r1', ra), job('rider', ca));
    const other = transactions.applyResult(result('r2'));
    await tick();
    txs[0]!.end();
    await tick();
    expect(txs[2]!.steps).toEqual(['results:r1,r2', 'claims:rider']);
    for (const id of [ra, ca]) expect(txs[2]!.first).toContain(id);
    // Failed: applied again one request at a time, the pair still together.
    txs[2]!.fail(new Error('serialization failure'));
    for (let i = 0; i < 5; i += 1) {
      await tick();
      for (const t of txs.slice(3)) t.end();
    }
    txs[1]!.end();
    expect(await paired).toEqual({ applied: { applied: true, reason: 'applied r1' }, claim: { kind: 'drop', reason: 'claimed rider' } });
    expect(await other).toEqual({ applied: true, reason: 'applied r2' });
    expect(txs.slice(3).map((t) => t.steps)).toEqual([['results:r1', 'claims:rider'], ['results:r2']]);
  });
});
