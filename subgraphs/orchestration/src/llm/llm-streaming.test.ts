import { randomUUID } from 'node:crypto';
import { eventually, startOpenAiStandIn, type OpenAiStandIn } from '@orchestra/lib';
import { startTestOrchestration, userPrincipal, type TestOrchestration } from '../testing/harness';

// Token streaming (issue 14). The model provider is an outside service we do not run here: a stand-in
// HTTP server on 127.0.0.1 speaks the OpenAI wire protocol (lib/src/openai-stand-in.ts) and paces its
// answer token by token. Everything else is real: the orchestration service on PostgreSQL and Redis,
// a worker over gRPC running the llm executor, the Execute stream carrying the tokens.

let t: TestOrchestration;
let standIn: OpenAiStandIn;
const orgA = randomUUID();
const orgB = randomUUID();
const adminA = userPrincipal(orgA, 'admin');
const operatorA = userPrincipal(orgA, 'operator');
const adminB = userPrincipal(orgB, 'admin');

interface DeltaEvent {
  seq: number;
  kind: string;
  attemptId: string | null;
  outputDelta: { seq: number; offset: number; text: string; restart: boolean } | null;
}

const ANSWER = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ') + '.';

async function startAsk(): Promise<string> {
  const res = await t.graphql<{ startRun: { run: { id: string } } }>(operatorA, 'mutation { startRun(input: { workflowName: "stream" }) { run { id } } }');
  expect(res.errors).toBeUndefined();
  return res.data!.startRun.run.id;
}

async function runView(runId: string) {
  const res = await t.graphql<{ run: { status: string; tasks: Array<{ id: string; status: string; output: { text: string } | null; streamedOutput: { text: string; throughSeq: number; deltaSeq: number } | null }> } }>(
    adminA,
    `query($id: ID!) { run(id: $id) { status tasks { id status output streamedOutput { text throughSeq deltaSeq } } } }`,
    { id: runId },
  );
  return res.data!.run;
}

const joined = (deltas: ReadonlyArray<NonNullable<DeltaEvent['outputDelta']>>): string => deltas.reduce((text, d) => (d.restart ? d.text : text + d.text), '');

beforeAll(async () => {
  standIn = await startOpenAiStandIn({});
  t = await startTestOrchestration();
  // The stand-in listens on 127.0.0.1: this worker may reach private addresses (a hosted provider would be public).
  await t.startWorker({ WORKER_ALLOW_PRIVATE_NETWORK: 'true', WORKER_SLOTS: '12' });
  await eventually(async () => ((await t.graphql<{ capabilities: string[] }>(adminA, '{ capabilities }')).data?.capabilities.includes('llm') ? true : undefined), {
    timeoutMs: 30_000,
    what: 'the worker to advertise llm',
  });
  const provider = await t.graphql(adminA, `mutation($input: CreateLlmProviderInput!) { createLlmProvider(input: $input) { id } }`, {
    input: { name: 'stand-in', baseUrl: standIn.baseUrl, models: [{ alias: 'small', model: 'gpt-small-1' }] },
  });
  expect(provider.errors).toBeUndefined();
  const workflow = await t.graphql(adminA, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
    input: { name: 'stream', steps: [{ id: 'ask', capability: 'llm', input: { provider: 'stand-in', model: 'small', messages: [{ role: 'user', content: 'Count' }] }, retry: { maxAttempts: 1 } }] },
  });
  expect(workflow.errors).toBeUndefined();
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await standIn?.stop();
});

describe('streamed model output', () => {
  it('records the tokens as TASK_OUTPUT_DELTA events, coalesced, in order, whose concatenation is the stored output', async () => {
    standIn.reset();
    standIn.script({ kind: 'answer', text: ANSWER, tokenDelayMs: 20 });
    const runId = await startAsk();
    // A reader who joins while the answer streams gets the text so far.
    const partial = await eventually(
      async () => {
        const task = (await runView(runId)).tasks[0]!;
        return task.streamedOutput && task.status === 'RUNNING' ? task.streamedOutput : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'part of the answer to be streamed' },
    );
    expect(ANSWER.startsWith(partial.text)).toBe(true);

    const run = await eventually(
      async () => {
        const view = await runView(runId);
        return view.status === 'SUCCEEDED' || view.status === 'FAILED' ? view : undefined;
      },
      { timeoutMs: 30_000, what: 'the run to finish' },
    );
    expect(run.status).toBe('SUCCEEDED');
    const task = run.tasks[0]!;
    expect(task.output?.text).toBe(ANSWER);

    const res = await t.graphql<{ run: { events: DeltaEvent[] } }>(adminA, `query($id: ID!) { run(id: $id) { events(first: 1000) { seq kind attemptId outputDelta { seq offset text restart } } } }`, { id: runId });
    const deltas = res.data!.run.events.filter((e) => e.kind === 'TASK_OUTPUT_DELTA');
    // 61 tokens went by in more than one event, and in fewer events than tokens.
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.length).toBeLessThan(61);
    expect(deltas.map((e) => e.outputDelta!.seq)).toEqual(deltas.map((_, i) => i + 1));
    const pieces = deltas.map((e) => e.outputDelta!);
    for (const [i, piece] of pieces.entries()) expect(piece.offset).toBe(joined(pieces.slice(0, i)).length);
    expect(joined(pieces)).toBe(ANSWER);
    expect(task.streamedOutput).toEqual({ text: ANSWER, throughSeq: deltas.at(-1)!.seq, deltaSeq: deltas.length });
    // Other events are untouched by the new field.
    expect(res.data!.run.events.filter((e) => e.kind !== 'TASK_OUTPUT_DELTA').every((e) => e.outputDelta === null)).toBe(true);

    // Another organization sees neither the task nor what it streamed.
    const intruder = await t.graphql<{ task: unknown }>(adminB, `query($id: ID!) { task(id: $id) { streamedOutput { text } } }`, { id: task.id });
    expect(intruder.data?.task ?? null).toBeNull();
  });

  it('keeps every stream whole and in order when many stream at once, in one run and across runs', async () => {
    // Each step asks for its own count; the stand-in answers each prompt with its own paced text, so
    // every task's answer is known. 6 steps of one run and 4 single-step runs: 10 streams at once,
    // whose batches the dispatcher writes together (event-buffer.ts createAttemptEventWriter).
    const answerTo = (prompt: string) => Array.from({ length: 40 }, (_, i) => `${prompt.replace(/\W/g, '')}w${i}`).join(' ');
    standIn.reset();
    standIn.respondWith((request) => {
      const last = (request.messages ?? []).at(-1)?.content;
      const prompt = typeof last === 'string' ? last : '';
      return { kind: 'answer', text: answerTo(prompt), tokenDelayMs: 15 };
    });
    const step = (id: string) => ({ id, capability: 'llm', input: { provider: 'stand-in', model: 'small', messages: [{ role: 'user', content: `Count ${id}` }] }, retry: { maxAttempts: 1 } });
    const created = await t.graphql(adminA, `mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }`, {
      input: { name: 'stream-six', steps: ['s1', 's2', 's3', 's4', 's5', 's6'].map(step) },
    });
    expect(created.errors).toBeUndefined();
    const start = async (workflowName: string) => {
      const res = await t.graphql<{ startRun: { run: { id: string } } }>(operatorA, `mutation($w: String!) { startRun(input: { workflowName: $w }) { run { id } } }`, { w: workflowName });
      expect(res.errors).toBeUndefined();
      return res.data!.startRun.run.id;
    };
    const runIds = await Promise.all([start('stream-six'), start('stream'), start('stream'), start('stream'), start('stream')]);
    for (const runId of runIds) {
      const run = await eventually(
        async () => {
          const view = await runView(runId);
          return view.status === 'SUCCEEDED' || view.status === 'FAILED' ? view : undefined;
        },
        { timeoutMs: 60_000, what: `run ${runId} to finish` },
      );
      expect(run.status).toBe('SUCCEEDED');
      const res = await t.graphql<{ run: { events: Array<DeltaEvent & { taskId: string | null }> } }>(adminA, `query($id: ID!) { run(id: $id) { events(first: 1000) { seq kind taskId attemptId outputDelta { seq offset text restart } } } }`, { id: runId });
      const events = res.data!.run.events;
      // The run's events are numbered 1, 2, 3 ... with no gap or repeat, however their writes were grouped.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      for (const task of run.tasks) {
        const pieces = events.filter((e) => e.kind === 'TASK_OUTPUT_DELTA' && e.taskId === task.id).map((e) => e.outputDelta!);
        expect(pieces.length).toBeGreaterThan(1);
        expect(pieces.map((p) => p.seq)).toEqual(pieces.map((_, i) => i + 1));
        expect(joined(pieces)).toBe(task.output!.text);
        expect(task.streamedOutput?.text).toBe(task.output!.text);
      }
    }
    const texts = (await Promise.all(runIds.map(runView))).flatMap((run) => run.tasks.map((task) => task.output!.text)).sort();
    expect(texts).toEqual([...['s1', 's2', 's3', 's4', 's5', 's6'].map((id) => answerTo(`Count ${id}`)), ...Array.from({ length: 4 }, () => answerTo('Count'))].sort());
  }, 120_000);

  it('cancelling the run aborts the provider’s HTTP stream at once', async () => {
    standIn.reset();
    // 200 tokens at 150 ms: 30 s if nothing stops it.
    standIn.script({ kind: 'answer', text: Array.from({ length: 200 }, (_, i) => `slow${i}`).join(' '), tokenDelayMs: 150 });
    const runId = await startAsk();
    await eventually(async () => ((await runView(runId)).tasks[0]!.streamedOutput ? true : undefined), { timeoutMs: 30_000, intervalMs: 50, what: 'the stream to start' });
    expect(standIn.requests[0]?.abortedAt).toBeUndefined();
    const cancelled = await t.graphql(operatorA, `mutation($id: ID!) { cancelRun(id: $id, reason: "enough") { status } }`, { id: runId });
    expect(cancelled.errors).toBeUndefined();
    // Well within the 30 s the answer would take: the worker's abort closed the connection to the provider.
    const aborted = await eventually(() => standIn.requests[0]?.abortedAt, { timeoutMs: 10_000, intervalMs: 20, what: 'the provider to see its stream closed' });
    expect(aborted).toBeGreaterThan(standIn.requests[0]!.at);
    await eventually(() => (standIn.openConnections() === 0 ? true : undefined), { timeoutMs: 10_000, what: 'no connection to the provider left open' });
    expect((await runView(runId)).status).toBe('CANCELLED');
  });
});
