import pg from 'pg';
import type { Logger } from './log';
import type { Metrics } from './metrics';
import type { Principal } from './principal';
import { AppError } from './errors';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: a pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export interface PoolOptions {
  url: string;
  /**
   * Where tenant transactions connect: a login of the service's tenant role itself (no row-level
   * security bypass, a member of nothing), so nothing a tenant transaction runs (RESET ROLE, SET
   * ROLE) reaches a role that sees other organizations' rows. Unset: tenant transactions SET ROLE
   * on `url`'s connections (development and the unit tests, which connect as the schema's owner).
   */
  tenantUrl?: string | undefined;
  /** The service's own schema; it comes first on the search_path. */
  schema: string;
  applicationName: string;
  max?: number;
  log: Logger;
  /** Counts the statements sent (orchestra_db_statements_total, BEGIN and COMMIT included). */
  metrics?: Metrics;
}

/**
 * A service's pool: its own login (system work), and the pool tenant transactions use when the
 * service was given a tenant login (`tenantUrl`). `end()` closes both.
 */
export class ServicePool extends pg.Pool {
  tenant: pg.Pool | undefined;

  override async end(): Promise<void> {
    await this.tenant?.end();
    await super.end();
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new AppError('INTERNAL', `invalid schema name ${JSON.stringify(schema)}`);
  return schema;
}

const poolConfig = (url: string, schema: string, applicationName: string, max: number): pg.PoolConfig => ({
  connectionString: url,
  max,
  application_name: applicationName,
  // No JIT: PostgreSQL here runs without planner statistics, so a plan's cost can climb past
  // jit_above_cost on any growing table, and compiling then costs seconds where the statement takes
  // milliseconds (the run-metrics rollup: 9.4 s of compile for a 22 ms statement, aa309c4).
  options: `-c search_path=${schema},public -c jit=off`,
  connectionTimeoutMillis: 5_000,
  idleTimeoutMillis: 30_000,
});

/** A pg pool whose connections start with the service's schema on the search_path. */
export function createPool({ url, tenantUrl, schema, applicationName, max = 10, log, metrics }: PoolOptions): ServicePool {
  assertSchemaName(schema);
  const pool = new ServicePool(poolConfig(url, schema, applicationName, max));
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', (err) => log.warn('idle database connection failed', { err }));
  if (tenantUrl !== undefined) {
    pool.tenant = new pg.Pool(poolConfig(tenantUrl, schema, `${applicationName}-tenant`, max));
    pool.tenant.on('error', (err) => log.warn('idle database connection failed', { err, tenant: true }));
  }
  if (metrics) countStatements(pool.tenant === undefined ? [pool] : [pool, pool.tenant], metrics);
  return pool;
}

/** Where a tenant transaction of `pool` connects: its tenant login when it has one. */
const tenantPoolOf = (pool: pg.Pool): pg.Pool => (pool instanceof ServicePool && pool.tenant !== undefined ? pool.tenant : pool);

/**
 * Counts every statement a connection of the pool sends (pool.query goes through a client too):
 * the round trips a request costs, as /metrics shows them (PostgreSQL here has no pg_stat_statements).
 */
function countStatements(pools: pg.Pool[], metrics: Metrics): void {
  const statements = metrics.counter('db_statements_total', 'SQL statements sent to PostgreSQL (BEGIN and COMMIT included)');
  for (const pool of pools) {
    pool.on('connect', (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      Object.assign(client, {
        query: (...args: unknown[]) => {
          statements.inc();
          return query(...args);
        },
      });
    });
  }
}

const SERIALIZATION_FAILURE = '40001';
const DEADLOCK_DETECTED = '40P01';

export interface TransactionOptions {
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** Retries on serialization failures and deadlocks (the whole function runs again). */
  retries?: number;
}

/**
 * BEGIN and whatever the transaction must set first, as one simple-query string (one round trip):
 * the tenant settings go with the BEGIN, quoted as literals, instead of a statement of their own.
 */
type Begin = (client: pg.PoolClient, begin: string) => string;

async function runTransaction<T>(
  pool: pg.Pool,
  setup: Begin | undefined,
  fn: (client: pg.PoolClient, begun: pg.QueryResult | pg.QueryResult[]) => Promise<T>,
  { isolation = 'read committed', retries = 2 }: TransactionOptions,
): Promise<T> {
  const begin = `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`;
  for (let attempt = 0; ; attempt += 1) {
    const client = await pool.connect();
    let released = false;
    /** fn's last statement committed the transaction (queryThenCommit): no COMMIT, no ROLLBACK, no retry. */
    let committed = false;
    try {
      // Several statements in one string answer with one result each (pg's simple-query protocol).
      const begun = (await client.query(setup ? setup(client, begin) : begin)) as pg.QueryResult | pg.QueryResult[];
      let result: T;
      try {
        result = await fn(client, begun);
      } finally {
        committed = endCommitted(client);
      }
      if (!committed) await client.query('COMMIT');
      return result;
    } catch (error) {
      if (committed) throw error;
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        client.release(rollbackError as Error);
        released = true;
      }
      const code = (error as { code?: string }).code;
      if ((code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED) && attempt < retries) continue;
      throw error;
    } finally {
      if (!released) client.release();
    }
  }
}

/**
 * A statement and the COMMIT after it, in one round trip: the extended protocol's Parse, Bind,
 * Describe and Execute of the statement, then Parse, Bind and Execute of COMMIT, then one Sync. An
 * error in the statement makes PostgreSQL skip the rest up to the Sync, so nothing is committed
 * then; a failing COMMIT (a serialization failure) is the query's error, as it would be its own.
 * pg answers with two results (as for several statements in one string): the statement's is first.
 */
class QueryThenCommit extends pg.Query {
  /** For whoever watches the statements a client sends (tests counting transactions): this one ends its transaction. */
  readonly commits = true;

  /** Always the extended protocol (pg sends a statement without parameters as a simple query). */
  requiresPreparation(): boolean {
    return true;
  }

  /** pg's own sends Execute and Sync; the COMMIT goes between them. */
  _getRows(connection: PgConnection, rows: number | undefined): void {
    connection.execute({ portal: (this as unknown as { portal: string }).portal, rows });
    connection.parse({ text: 'COMMIT' });
    connection.bind({});
    connection.execute({});
    connection.sync();
  }
}

/** What QueryThenCommit writes to (pg's Connection, untyped by @types/pg). */
interface PgConnection {
  parse(query: { text: string }): void;
  bind(config: object): void;
  execute(config: { portal?: string; rows?: number | undefined }): void;
  sync(): void;
}

/** Clients whose transaction a statement committed, with the query function they had before. */
const committedClients = new WeakMap<pg.PoolClient, pg.PoolClient['query']>();

/** Gives the client its query function back; true when queryThenCommit committed its transaction. */
function endCommitted(client: pg.PoolClient): boolean {
  const query = committedClients.get(client);
  if (query === undefined) return false;
  committedClients.delete(client);
  client.query = query;
  return true;
}

/**
 * The last statement of a transaction (of withSystemTransaction, withTenantTransaction, …) sent with
 * its COMMIT in one round trip instead of two (issue 11: COMMIT was a quarter of the statements of
 * a dispatched task). Once it answers, the transaction has committed: the transaction function must
 * send nothing more (anything it sends is refused), and is not run again when it throws.
 */
export function queryThenCommit<R extends pg.QueryResultRow = pg.QueryResultRow>(client: pg.PoolClient, config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
  return new Promise((resolve, reject) => {
    const query = new QueryThenCommit(config, undefined, (error: Error | undefined, results: unknown) => {
      if (error) {
        reject(error);
        return;
      }
      committedClients.set(client, client.query);
      client.query = () => Promise.reject(new AppError('INTERNAL', 'a statement after the transaction committed (queryThenCommit sends the last one)'));
      resolve((Array.isArray(results) ? results[0] : results) as pg.QueryResult<R>);
    });
    void client.query(query as unknown as pg.QueryConfig);
  });
}

/**
 * A transaction as the service's own login: every organization's rows (the owner in development;
 * in production a service role whose row-level security policy admits all rows, which owns nothing).
 * For system work only.
 */
export const withSystemTransaction = <T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}) =>
  runTransaction(pool, undefined, fn, options);

export interface TenantScope {
  orgId: string;
  userId?: string | undefined;
}

/**
 * withSystemTransaction whose first statement goes with the BEGIN, one round trip instead of two (issue
 * 11: a claim or a result transaction starts by locking its runs). `first` takes no parameters: what it
 * holds the caller has made into literals it checked. `fn` gets its rows; a retry (serialization
 * failure, deadlock) sends both again.
 */
export const withSystemTransactionFrom = <R extends pg.QueryResultRow, T>(
  pool: pg.Pool,
  first: string,
  fn: (client: pg.PoolClient, firstRows: R[]) => Promise<T>,
  options: TransactionOptions = {},
) =>
  runTransaction(
    pool,
    (_client, begin) => `${begin}; ${first}`,
    (client, begun) => {
      const results = Array.isArray(begun) ? begun : [begun];
      return fn(client, (results[results.length - 1]?.rows ?? []) as R[]);
    },
    options,
  );

/** The tenant scope of a principal; throws FORBIDDEN when it has no organization. */
export function tenantScopeOf(principal: Principal): TenantScope {
  if (principal.orgId === undefined) {
    throw new AppError('FORBIDDEN', 'this operation needs an organization: sign in to an organization first', { reason: 'NO_ORGANIZATION' });
  }
  return { orgId: principal.orgId, userId: principal.userId };
}

/**
 * A transaction under the service's tenant role, with `app.org_id` / `app.user_id` set for
 * row-level security: queries in it see and write only the org's rows, whatever the SQL says.
 */
export const withTenantTransaction = <T>(
  pool: pg.Pool,
  tenantRole: string,
  scope: TenantScope,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
) =>
  runTransaction(
    tenantPoolOf(pool),
    // The role and the organization are set with the BEGIN (one round trip); literals quoted by the driver.
    (client, begin) =>
      `${begin}; SELECT set_config('role', ${client.escapeLiteral(tenantRole)}, true), set_config('app.org_id', ${client.escapeLiteral(scope.orgId)}, true), set_config('app.user_id', ${client.escapeLiteral(scope.userId ?? '')}, true)`,
    fn,
    options,
  );

/** SQL for the helper functions policies use; run by runMigrations in every service schema. */
export const TENANT_FUNCTIONS_SQL = `
CREATE OR REPLACE FUNCTION current_org_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('app.org_id', true), '')::uuid $$;
CREATE OR REPLACE FUNCTION current_app_user_id() RETURNS uuid LANGUAGE sql STABLE AS
  $$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
`;

export const isUniqueViolation = (error: unknown, constraint?: string): boolean => {
  const e = error as { code?: string; constraint?: string };
  return e.code === '23505' && (constraint === undefined || e.constraint === constraint);
};
