import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { eventually, insecureCredentials, mintWorkerToken, unaryCall, type GrpcClientOptions } from '@orchestra/lib';
import { auditV1, automationV1, identityV1, orchestrationV1 } from '@orchestra/proto';
import { startPlatform, type Platform } from '../src/platform';
import { FAST_ORCHESTRATION_ENV, createWorkflow, signUp, startRun, waitForRun, type Session } from '../orchestration/helpers';

/**
 * Issue 9, item 14 across real processes: a worker holds only its own token. With it, it registers
 * and heartbeats for its own id and can do nothing else anywhere: it reads no users, writes no audit
 * events, starts no runs and cannot take over another worker's id. And a worker takes work only from
 * the orchestration service, not from a service holding the services' token. And (item 15) the
 * services run on their own database logins, none of them a superuser or an owner.
 */

let platform: Platform;
let owner: Session;
let workerId: string;
let workerPid: number;
const clients: Array<{ close(): void }> = [];
const client = <C extends { close(): void }>(c: C): C => {
  clients.push(c);
  return c;
};

beforeAll(async () => {
  platform = await startPlatform({
    services: ['identity', 'orchestration', 'audit'],
    workers: 1,
    env: { orchestration: FAST_ORCHESTRATION_ENV },
    // As npm start and the chart run them: migrated by the owner, then each service on its own logins.
    databaseRoles: true,
  });
  owner = await signUp(platform, 'Trust Org');
  const worker = platform.workers[0]!;
  workerPid = worker.process.pid!;
  workerId = await eventually(
    async () => {
      const { rows } = await platform.pool.query<{ id: string }>(`SELECT id FROM "${platform.schemas.orchestration}".workers WHERE status = 'ONLINE'`);
      return rows[0]?.id;
    },
    { timeoutMs: 30_000, what: 'the worker to register' },
  );
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await platform?.stop();
});

const asWorker = (id: string): GrpcClientOptions => ({ internalToken: mintWorkerToken(platform.workerAuthSecret, id) });

describe('a worker\'s credential', () => {
  it('is the only secret the worker process is given: not the services\' token, the worker secret or the database', () => {
    const environ = readFileSync(`/proc/${workerPid}/environ`, 'utf8').split('\0');
    const values = environ.map((entry) => entry.slice(entry.indexOf('=') + 1));
    expect(values).not.toContain(platform.internalToken);
    expect(environ.some((e) => e.includes(platform.internalToken))).toBe(false);
    expect(environ.some((e) => e.includes(platform.workerAuthSecret))).toBe(false);
    expect(environ.some((e) => e.startsWith('DATABASE_URL=') || e.startsWith('PRINCIPAL_PUBLIC_KEY='))).toBe(false);
    expect(environ.find((e) => e.startsWith('WORKER_TOKEN='))).toBe(`WORKER_TOKEN=${mintWorkerToken(platform.workerAuthSecret, workerId)}`);
  });

  it('runs tasks the orchestration service sends it (registered and dispatched with worker credentials)', async () => {
    const id = await createWorkflow(platform, owner, 'trusted-dispatch', [{ id: 'only', capability: 'noop' }]);
    const { id: runId } = await startRun(platform, owner, { workflowId: id });
    const run = await waitForRun(platform, owner, runId);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks[0]?.workerId).toBe(workerId);
  });

  it('cannot read users from identity', async () => {
    const identity = client(new identityV1.IdentityServiceClient(platform.services.identity!.grpcAddress!, insecureCredentials()));
    await expect(unaryCall(identity, identity.getUsers, { ids: [owner.user.id] }, asWorker(workerId))).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'SERVICE_TOKEN_INVALID' });
    // The services' token does read them: the refusal is the credential's.
    const { users } = await unaryCall(identity, identity.getUsers, { ids: [owner.user.id] }, { internalToken: platform.internalToken });
    expect(users.map((u) => u.id)).toEqual([owner.user.id]);
  });

  it('cannot write into an organization\'s audit chain', async () => {
    const audit = client(new auditV1.AuditServiceClient(platform.services.audit!.grpcAddress!, insecureCredentials()));
    const event = auditV1.AuditEvent.fromPartial({
      eventId: randomUUID(),
      orgId: owner.organization.id,
      occurredAt: new Date(),
      service: 'worker',
      actor: { kind: auditV1.ActorKind.ACTOR_KIND_SERVICE, id: 'worker' },
      action: 'member.remove',
      targetType: 'User',
      targetId: owner.user.id,
      outcome: 'success',
    });
    await expect(unaryCall(audit, audit.record, { events: [event] }, asWorker(workerId))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const { rows } = await platform.pool.query(`SELECT 1 FROM "${platform.schemas.audit}".audit_events WHERE id = $1`, [event.eventId]);
    expect(rows).toHaveLength(0);
  });

  it('cannot start or read runs, only call the worker registry', async () => {
    const runs = client(new orchestrationV1.OrchestrationServiceClient(platform.services.orchestration!.grpcAddress!, insecureCredentials()));
    await expect(unaryCall(runs, runs.getRun, { runId: randomUUID() }, asWorker(workerId))).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'CREDENTIAL_NOT_ALLOWED' });
  });

  it('cannot register, heartbeat or deregister another worker\'s id, and the victim keeps its registration', async () => {
    const registry = client(new orchestrationV1.WorkerRegistryClient(platform.services.orchestration!.grpcAddress!, insecureCredentials()));
    const thief = asWorker(`${workerId}-thief`);
    const hijack = {
      worker: { workerId, endpoint: '10.6.6.6:50061', pool: 'default', capabilities: ['noop'], slotsTotal: 64, slotsFree: 64, labels: {}, version: 'evil', llmEndpoints: [] },
    };
    await expect(unaryCall(registry, registry.register, hijack, thief)).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'WORKER_ID_MISMATCH' });
    await expect(unaryCall(registry, registry.deregister, { workerId }, thief)).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'WORKER_ID_MISMATCH' });
    // The services' token is not a worker credential either.
    await expect(unaryCall(registry, registry.register, hijack, { internalToken: platform.internalToken })).rejects.toMatchObject({ code: 'FORBIDDEN', reason: 'WORKER_CREDENTIAL_REQUIRED' });
    const { rows } = await platform.pool.query<{ endpoint: string; status: string }>(`SELECT endpoint, status FROM "${platform.schemas.orchestration}".workers WHERE id = $1`, [workerId]);
    expect(rows).toEqual([{ endpoint: platform.workers[0]!.grpcAddress, status: 'ONLINE' }]);
  });
});

describe('a worker\'s gRPC server', () => {
  it('refuses Execute from a holder of the services\' token or of a worker token', async () => {
    const worker = client(new automationV1.AutomationServiceClient(platform.workers[0]!.grpcAddress!, insecureCredentials()));
    for (const credential of [{ internalToken: platform.internalToken }, asWorker(workerId)]) {
      await expect(unaryCall(worker, worker.describe, {}, credential)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      await expect(unaryCall(worker, worker.cancel, { attemptId: randomUUID(), reason: 'not yours' }, credential)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});

describe('the services\' database logins', () => {
  it('are their own service and tenant roles (as npm start runs them), none a superuser, none owning a table', async () => {
    const { rows } = await platform.pool.query<{ usename: string; rolsuper: boolean; rolbypassrls: boolean }>(
      `SELECT DISTINCT a.usename, r.rolsuper, r.rolbypassrls FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
        WHERE a.usename IN ('orchestra_identity_service', 'orchestra_identity_tenant', 'orchestra_orchestration_service', 'orchestra_orchestration_tenant', 'orchestra_audit_service')`,
    );
    // Signing up (identity), running a workflow (orchestration, tenant and system work) and the audit relay have used them all.
    expect(rows.map((r) => r.usename).sort()).toEqual(['orchestra_audit_service', 'orchestra_identity_service', 'orchestra_identity_tenant', 'orchestra_orchestration_service', 'orchestra_orchestration_tenant']);
    for (const r of rows) expect(r).toMatchObject({ rolsuper: false, rolbypassrls: false });
    const owned = await platform.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
        WHERE n.nspname = ANY($1::text[]) AND r.rolname LIKE 'orchestra\\_%'`,
      [[platform.schemas.identity, platform.schemas.orchestration, platform.schemas.audit]],
    );
    expect(owned.rows[0]!.n).toBe(0);
  });
});
