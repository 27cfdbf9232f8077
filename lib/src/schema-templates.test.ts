import { join } from 'node:path';
import { createPool, type Pool } from './db';
import { createMemoryLogger } from './log';
import { runMigrations } from './migrate';
import { dumpToRestoreSql, migrateTestSchema } from './schema-templates';
import { createTestSchema, TEST_DATABASE_URL } from './testing';

const log = createMemoryLogger();
const ROOT = join(__dirname, '..', '..');

/**
 * Everything about a schema a service or test can see, with the schema's own name written `S`: columns,
 * constraints, indexes, functions, triggers, row-level security and its policies, each role's grants,
 * sequences, and each table's rows (the migration version tables' versions, names and checksums).
 */
async function describeSchema(pool: Pool, schema: string): Promise<Record<string, unknown>> {
  const q = async (sql: string): Promise<string[]> => (await pool.query<{ d: string }>(sql, [schema])).rows.map((r) => r.d.replaceAll(schema, 'S')).sort();
  const tables = (await pool.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [schema])).rows.map((r) => r.t);
  const rows: Record<string, unknown> = {};
  for (const t of tables) {
    const cols = t.endsWith('schemaversion') ? 'version, name, md5' : '*';
    const data = await pool.query(`SELECT ${cols} FROM "${schema}"."${t}"`);
    // Rows a migration inserted, without the moment it ran (a template's rows are as old as the template).
    rows[t] = data.rows.map((r: Record<string, unknown>) => JSON.stringify(r, (k, v: unknown) => (k.endsWith('_at') || k === 'updated' ? '<time>' : v))).sort();
  }
  return {
    columns: await q(`SELECT concat_ws(' ', table_name, column_name, data_type, is_nullable, column_default, ordinal_position) AS d FROM information_schema.columns WHERE table_schema = $1`),
    constraints: await q(`SELECT concat_ws(' ', c.relname, k.conname, pg_get_constraintdef(k.oid)) AS d FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`),
    indexes: await q(`SELECT indexdef AS d FROM pg_indexes WHERE schemaname = $1`),
    functions: await q(
      `SELECT CASE WHEN p.prokind = 'a' THEN concat_ws(' ', 'aggregate', p.proname, pg_get_function_arguments(p.oid), a.aggtransfn, a.aggfinalfn, a.aggtranstype::regtype, a.agginitval)
                   ELSE pg_get_functiondef(p.oid) END AS d
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid WHERE n.nspname = $1`,
    ),
    triggers: await q(`SELECT pg_get_triggerdef(t.oid) AS d FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND NOT t.tgisinternal`),
    security: await q(`SELECT concat_ws(' ', c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity, coalesce(c.relacl, acldefault('r', c.relowner))::text) AS d FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1`),
    policies: await q(`SELECT concat_ws(' ', tablename, policyname, permissive, roles::text, cmd, qual, with_check) AS d FROM pg_policies WHERE schemaname = $1`),
    routineGrants: await q(`SELECT concat_ws(' ', routine_name, grantee, privilege_type) AS d FROM information_schema.routine_privileges WHERE routine_schema = $1`),
    schemaGrants: await q(`SELECT coalesce(nspacl::text, '') AS d FROM pg_namespace WHERE nspname = $1`),
    sequences: await q(`SELECT concat_ws(' ', sequencename, start_value, increment_by, last_value) AS d FROM pg_sequences WHERE schemaname = $1`),
    rows,
  };
}

// lib's fixture and every service's migrations (read from their folders; lib imports no service).
const SETS = [
  { name: 'lib fixture', dir: join(__dirname, '__fixtures__', 'migrations'), tenantRole: 'orchestra_libtest_tenant' },
  { name: 'orchestration', dir: join(ROOT, 'subgraphs/orchestration/src/migrations'), tenantRole: 'orchestra_orchestration_tenant' },
  { name: 'identity', dir: join(ROOT, 'subgraphs/identity/src/migrations'), tenantRole: 'orchestra_identity_tenant' },
  { name: 'catalog', dir: join(ROOT, 'subgraphs/catalog/src/migrations'), tenantRole: 'orchestra_catalog_tenant' },
  { name: 'notifications', dir: join(ROOT, 'subgraphs/notifications/src/migrations'), tenantRole: 'orchestra_notifications_tenant' },
  { name: 'audit', dir: join(ROOT, 'subgraphs/audit/src/migrations'), tenantRole: 'orchestra_audit_tenant' },
];

describe('migrateTestSchema', () => {
  it.each(SETS)('gives a schema the same as running $name migrations into it, in one statement', async ({ dir, tenantRole }) => {
    const migrated = await createTestSchema('tmplref');
    const copied = await createTestSchema('tmplcopy');
    const a = createPool({ url: TEST_DATABASE_URL, schema: migrated.schema, applicationName: 'lib-test', log, max: 1 });
    const b = createPool({ url: TEST_DATABASE_URL, schema: copied.schema, applicationName: 'lib-test', log, max: 1 });
    try {
      await runMigrations({ pool: a, schema: migrated.schema, dir, tenantRole, log });
      // Once so the template exists (first use on this database), then counted.
      const warm = await createTestSchema('tmplwarm');
      const w = createPool({ url: TEST_DATABASE_URL, schema: warm.schema, applicationName: 'lib-test', log, max: 1 });
      await migrateTestSchema({ pool: w, schema: warm.schema, dir, tenantRole, log });
      await w.end();
      await warm.drop();

      const sent: string[] = [];
      b.on('connect', (client) => {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        client.query = ((...args: unknown[]) => {
          sent.push(String(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text).slice(0, 40));
          return query(...args);
        }) as typeof client.query;
      });
      await migrateTestSchema({ pool: b, schema: copied.schema, dir, tenantRole, log });
      // One look for the schema, one restore (runMigrations sends several per migration).
      expect(sent).toHaveLength(2);
      expect(sent[1]).toMatch(/^BEGIN;/);
      const [want, got] = [await describeSchema(a, migrated.schema), await describeSchema(b, copied.schema)];
      expect(got).toEqual(want);
      // The copy's connection is left as it was: the dump's search_path was local to its transaction.
      const { rows } = await b.query<{ p: string }>('SELECT current_setting($1) AS p', ['search_path']);
      expect(rows[0]!.p).toBe(`${copied.schema},public`);
    } finally {
      await a.end();
      await b.end();
      await migrated.drop();
      await copied.drop();
    }
  });

  it('runs the migrations into a schema that exists already', async () => {
    const test = await createTestSchema('tmplexists');
    const pool = createPool({ url: TEST_DATABASE_URL, schema: test.schema, applicationName: 'lib-test', log, max: 1 });
    try {
      await pool.query(`CREATE SCHEMA ${test.schema}`);
      await pool.query(`CREATE TABLE ${test.schema}.kept (id int)`);
      await migrateTestSchema({ pool, schema: test.schema, dir: SETS[0]!.dir, tenantRole: SETS[0]!.tenantRole, log });
      const { rows } = await pool.query<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1', [test.schema]);
      expect(rows.map((r) => r.t)).toEqual(expect.arrayContaining(['kept', 'notes', 'schemaversion', 'shared_schemaversion']));
    } finally {
      await pool.end();
      await test.drop();
    }
  });
});

describe('dumpToRestoreSql', () => {
  it('keeps settings to the transaction and leaves out meta-commands and the completion mark', () => {
    const sql = dumpToRestoreSql(
      ["\\restrict abc", 'SET lock_timeout = 0;', "SELECT pg_catalog.set_config('search_path', '', false);", 'CREATE SCHEMA tmpl_x;', "COMMENT ON SCHEMA tmpl_x IS 'done';", '\\unrestrict abc'].join('\n'),
      'tmpl_x',
    );
    expect(sql).toBe("BEGIN;\nSET LOCAL lock_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', true);\nCREATE SCHEMA tmpl_x;\nCOMMIT;\n");
  });
});
