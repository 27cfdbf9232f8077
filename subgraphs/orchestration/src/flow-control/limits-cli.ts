// The `flow-limits` command (entry: flow-limits.ts): what platform operators allow an
// organization (issue 10). With database access (DATABASE_URL, DB_SCHEMA), like reset-password:
//   show <orgId>                                   quotas as set and as they apply, pools, usage now
//   set <orgId> <quota>=<n|default> ...            runningTasksPerPool, runsStartedPerMinute, queuedTasks, waitingTasks, weight
//   grant <orgId> <pool> / revoke <orgId> <pool>   pools besides the shared "default" one
// OPERATOR names who does it in the organization's audit trail (default: $USER).
import { userInfo } from 'node:os';
import { z } from 'zod';
import { AppError, commonEnv, createLogger, createPool, env, loadConfig } from '@orchestra/lib';
import { orchestrationConfigSchema } from '../config';
import { SERVICE } from '../engine/engine';
import { changePoolGrant, describeOrgLimits, QUOTA_FIELDS, setOrgQuotas, type OrgLimitsReport } from './operator-commands';

const cliConfigSchema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  DATABASE_URL: commonEnv.DATABASE_URL,
  DB_SCHEMA: env.string('orchestration'),
  ORG_RUNNING_TASKS_PER_POOL: orchestrationConfigSchema.shape.ORG_RUNNING_TASKS_PER_POOL,
  ORG_RUNS_STARTED_PER_MINUTE: orchestrationConfigSchema.shape.ORG_RUNS_STARTED_PER_MINUTE,
  ORG_QUEUED_TASKS: orchestrationConfigSchema.shape.ORG_QUEUED_TASKS,
  ORG_WAITING_TASKS: orchestrationConfigSchema.shape.ORG_WAITING_TASKS,
  OPERATOR: z.string().min(1).max(100).optional(),
});

const USAGE = `usage: npm run flow-limits -w @orchestra/orchestration -- <command>
  show <orgId>
  set <orgId> <quota>=<n|default> ...   (quotas: ${QUOTA_FIELDS.join(', ')})
  grant <orgId> <pool>
  revoke <orgId> <pool>
`;

const shown = (n: number | null): string => (n === null ? 'no limit' : String(n));

/** Where the command writes (the process's stdout/stderr, or a test's buffers). */
export interface CommandOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

function print(report: OrgLimitsReport, out: CommandOutput['out']): void {
  const lines = [
    `organization ${report.orgId}`,
    ...QUOTA_FIELDS.map((f) => `  ${f.padEnd(22)} ${shown(report.effective[f])}${report.set[f] === null ? ' (platform default)' : ''}`),
    `  pools                  ${report.pools.join(', ')}`,
    `  now: ${report.usage.runsStartedLastMinute} runs started in the last minute, ${report.usage.queuedTasks} tasks queued, ${report.usage.waitingTasks} waiting in wait steps, running ${
      report.usage.runningByPool.map((p) => `${p.running} in ${p.pool}`).join(', ') || 'nothing'
    }`,
  ];
  out(`${lines.join('\n')}\n`);
}

/** `quota=12` or `quota=default`. */
function parseAssignments(args: string[]): Record<string, number | null> {
  const change: Record<string, number | null> = {};
  for (const arg of args) {
    const m = /^([A-Za-z]+)=(default|\d+)$/.exec(arg);
    if (!m) throw new AppError('BAD_USER_INPUT', `"${arg}" is not <quota>=<n|default>`, { reason: 'INVALID_ARGUMENT' });
    change[m[1] as string] = m[2] === 'default' ? null : Number(m[2]);
  }
  return change;
}

/** Runs one command; resolves to the exit code (2: usage, 1: refused). */
export async function runFlowLimits(args: readonly string[], environment: NodeJS.ProcessEnv, output: CommandOutput): Promise<number> {
  const [command, orgId, ...rest] = args;
  const known = { show: 0, set: -1, grant: 1, revoke: 1 } as const;
  if (command === undefined || orgId === undefined || !Object.hasOwn(known, command) || (known[command as keyof typeof known] >= 0 && rest.length !== known[command as keyof typeof known])) {
    output.err(USAGE);
    return 2;
  }
  const config = loadConfig(cliConfigSchema, environment);
  const log = createLogger({ service: `${SERVICE}-flow-limits`, level: config.LOG_LEVEL });
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, applicationName: `${SERVICE}-flow-limits`, log, max: 2 });
  const operator = config.OPERATOR ?? userInfo().username;
  try {
    if (command === 'show') {
      print(await describeOrgLimits(pool, config, orgId), output.out);
    } else if (command === 'set') {
      print(await setOrgQuotas(pool, config, orgId, parseAssignments(rest), operator), output.out);
    } else {
      const poolName = rest[0] as string;
      const changed = await changePoolGrant(pool, orgId, poolName, command === 'grant', operator);
      output.out(`pool "${poolName}" ${command === 'grant' ? (changed ? 'granted to' : 'was already granted to') : changed ? 'revoked from' : 'was not granted to'} ${orgId}\n`);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    output.err(`flow-limits: ${error.message}\n`);
    return 1;
  } finally {
    await pool.end();
  }
}
