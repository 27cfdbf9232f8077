import { buildNotificationEvent, queryThenCommit, type NotificationEventInput, type NotificationEventType, type PoolClient, type Queryable, type RunEvent } from '@orchestra/lib';
import { appendRunEvents } from '../store/events';

/** An attempt written to the queue outbox in this transaction, to hand to BullMQ after commit. */
export interface EnqueueRequest {
  attemptId: string;
  orgId: string;
  runId: string;
  taskId: string;
  pool: string;
  availableAt: Date;
  /** Its task's priority, 1 … 5 (absent: 3); orders its queue job (domain/flow-control.ts queueOrder). */
  priority?: number;
  /** Its fair rank among its organization's waiting attempts in the pool (flow-control/fair-share.ts); absent: 0. */
  rank?: number;
}

/** A wait step's attempt queued in this transaction: its wait is recorded before the commit (src/waits/arm.ts). */
export interface WaitStart {
  attemptId: string;
  runId: string;
  taskId: string;
}

/** A RUNNING attempt this transaction gave up on: its Execute call and its worker are told after commit. */
export interface CancelRequest {
  attemptId: string;
  workerId: string | null;
  reason: string;
}

type EventFields = Omit<RunEvent, 'seq' | 'runId' | 'orgId' | 'workflowId' | 'at'>;
const EMPTY: EventFields = {
  kind: 'RUN_STATUS',
  runStatus: null,
  taskId: null,
  stepId: null,
  taskStatus: null,
  attemptId: null,
  attempt: null,
  progress: null,
  message: null,
  level: null,
  error: null,
  outputDelta: null,
};

/**
 * What a state-changing transaction produces besides its rows: the run events it recorded (their
 * seqs are taken and the rows written by `writeEvents`, inside the transaction) and the work to do
 * once it has committed (publish, enqueue, cancel). Nothing leaves the process before the commit.
 */
export class TransactionEffects {
  private readonly pending = new Map<string, { orgId: string; workflowId: string; events: Array<{ at: string; fields: EventFields }> }>();
  readonly events: RunEvent[] = [];
  readonly enqueue: EnqueueRequest[] = [];
  readonly cancel: CancelRequest[] = [];
  /** Wait steps' attempts queued here, whose waits are recorded in this transaction (engine.ts runs waits/arm.ts before the commit). */
  readonly waits: WaitStart[] = [];
  /** Events for the notifications service (run failed, task dead-lettered...), written to its outbox with the rows. */
  readonly notifications: Array<NotificationEventInput<NotificationEventType>> = [];

  notify<T extends NotificationEventType>(input: NotificationEventInput<T>): void {
    this.notifications.push(input);
  }

  /** Records an event of `run` (seq assigned when written). */
  event(run: { id: string; orgId: string; workflowId: string }, fields: Partial<EventFields> & Pick<EventFields, 'kind'>): void {
    let entry = this.pending.get(run.id);
    if (!entry) {
      entry = { orgId: run.orgId, workflowId: run.workflowId, events: [] };
      this.pending.set(run.id, entry);
    }
    entry.events.push({ at: new Date().toISOString(), fields: { ...EMPTY, ...fields } });
  }

  /**
   * The events recorded so far for a run this transaction creates, numbered 1, 2, ...: the
   * statement that inserts the run writes them (and sets its last_seq); they are published after commit.
   */
  takeNewRunEvents(runId: string): RunEvent[] {
    const entry = this.pending.get(runId);
    if (!entry) return [];
    this.pending.delete(runId);
    const events = entry.events.map(({ at, fields }, i): RunEvent => ({ ...fields, runId, orgId: entry.orgId, workflowId: entry.workflowId, at, seq: i + 1 }));
    this.events.push(...events);
    return events;
  }

  /**
   * Takes the seqs (locking each run's row until commit) and inserts the recorded events, with the
   * recorded notification events (the notification outbox), in one statement. `commit`: it is the
   * transaction's last statement, sent with its COMMIT in one round trip (lib queryThenCommit); the
   * transaction has committed when this returns (or throws after it answered: a run that vanished).
   */
  async writeEvents(tx: PoolClient, service: string, { commit = false }: { commit?: boolean } = {}): Promise<void> {
    const batches = [...this.pending]
      .filter(([, entry]) => entry.events.length > 0)
      .map(([runId, entry]) => ({
        runId,
        events: entry.events.map(({ at, fields }) => ({ ...fields, runId, orgId: entry.orgId, workflowId: entry.workflowId, at })),
      }));
    this.pending.clear();
    const notifications = this.notifications.splice(0).map((input) => buildNotificationEvent(service, input));
    if (batches.length === 0 && notifications.length === 0) return;
    // appendRunEvents sends one statement, whichever it writes.
    const db: Queryable = commit ? committing(tx) : tx;
    const bases = await appendRunEvents(db, batches, notifications);
    for (const batch of batches) {
      const base = bases.get(batch.runId) as number;
      batch.events.forEach((event, i) => this.events.push({ ...event, seq: base + i + 1 }));
    }
  }

  merge(other: TransactionEffects): void {
    this.events.push(...other.events);
    this.enqueue.push(...other.enqueue);
    this.cancel.push(...other.cancel);
  }

  get isEmpty(): boolean {
    return this.events.length === 0 && this.enqueue.length === 0 && this.cancel.length === 0;
  }
}

/** `tx` for one statement that goes with the COMMIT (a text and values, or a config with a name). */
const committing = (tx: PoolClient): Queryable =>
  ({
    query: (config: string | { text: string; name?: string; values?: unknown[] }, values?: unknown[]) =>
      queryThenCommit(tx, typeof config === 'string' ? { text: config, ...(values === undefined ? {} : { values }) } : config),
  }) as unknown as Queryable;
