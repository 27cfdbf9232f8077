// Test support: a migrated schema made by copying a template instead of running every migration again.
// A test suite asks for a schema migrated with a service's migrations dozens of times a CI run (each
// orchestration suite, each platform an end-to-end suite starts), and running 39 migrations, each its
// own committed transaction, took 1.2–4.4 s on the 2-core CI machine; restoring one dump of the same
// schema in one transaction takes ~0.3 s.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { assertSchemaName, TENANT_FUNCTIONS_SQL } from './db';
import { runMigrations, SHARED_MIGRATIONS_DIR, type MigrateOptions } from './migrate';

/** Bump when what a template holds or how it is dumped changes: old templates are then never read again. */
const TEMPLATE_FORMAT = 1;
/** Where each template's dump is kept between test processes (one file per template, written once). */
const DUMP_DIR = join(tmpdir(), 'orchestra-schema-templates');

const sqlFilesOf = (dir: string): string[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort();

/**
 * The template schema's name: a digest of everything a migrated schema depends on (the migration files'
 * names and contents, lib's shared migrations, the tenant role, the database), so a changed migration or
 * another worktree's migrations get a template of their own and a template never needs updating.
 */
function templateNameOf(options: MigrateOptions, connectionString: string): string {
  const hash = createHash('sha256').update(`format ${TEMPLATE_FORMAT}\n${connectionString}\n${options.tenantRole}\n${TENANT_FUNCTIONS_SQL}\n`);
  for (const dir of [options.dir, SHARED_MIGRATIONS_DIR]) {
    for (const name of sqlFilesOf(dir)) hash.update(`${dir === options.dir ? 'own' : 'shared'}/${name}\n`).update(readFileSync(join(dir, name)));
  }
  return `tmpl_${options.tenantRole.replace(/^orchestra_|_tenant$/g, '').slice(0, 30)}_${hash.digest('hex').slice(0, 16)}`;
}

/** The comment a template gets once its migrations are all in: a template without it is made again. */
const COMPLETE = 'orchestra test template, complete';

/**
 * pg_dump's script turned into one transaction a pg client can send: its psql meta-commands
 * (`\restrict`) left out, its settings made local to the transaction (they would otherwise stay on the
 * pooled connection: the dump empties search_path), and the template's completion mark left out.
 */
export function dumpToRestoreSql(dump: string, template: string): string {
  const statements = dump
    .split('\n')
    .filter((line) => !line.startsWith('\\') && !line.startsWith(`COMMENT ON SCHEMA ${template} IS`))
    .map((line) => line.replace(/^SET (?!LOCAL )/, 'SET LOCAL ').replace(/set_config\('search_path', '', false\)/, "set_config('search_path', '', true)"));
  return `BEGIN;\n${statements.join('\n')}\nCOMMIT;\n`;
}

const execFileAsync = promisify(execFile);

/** Makes the template (if no test process has) and its dump file (if none is kept); undefined when pg_dump cannot be used here. */
async function templateDump(options: MigrateOptions, connectionString: string): Promise<{ template: string; sql: string } | undefined> {
  const template = assertSchemaName(templateNameOf(options, connectionString));
  const file = join(DUMP_DIR, `${template}.sql`);
  const admin = new pg.Pool({ connectionString, max: 1 });
  try {
    const client = await admin.connect();
    try {
      const complete = async () =>
        (await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1 AND obj_description(oid, 'pg_namespace') = $2`, [template, COMPLETE])).rowCount === 1;
      // The file is only trusted beside its template: the template's migration made the roles its grants name.
      if (existsSync(file) && (await complete())) return { template, sql: readFileSync(file, 'utf8') };
      // Test processes (jobs run side by side) wait for the one making this template.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`orchestra-template:${template}`]);
      try {
        if (!(await complete())) {
          await client.query(`DROP SCHEMA IF EXISTS ${template} CASCADE`);
          const pool = new pg.Pool({ connectionString, max: 1 });
          try {
            await runMigrations({ ...options, pool, schema: template });
          } finally {
            await pool.end();
          }
          await client.query(`COMMENT ON SCHEMA ${template} IS '${COMPLETE}'`);
        }
        if (!existsSync(file)) {
          const { stdout } = await execFileAsync('pg_dump', [`--dbname=${connectionString}`, `--schema=${template}`, '--inserts', '--no-owner'], { maxBuffer: 64 * 1024 * 1024 });
          mkdirSync(DUMP_DIR, { recursive: true });
          const partial = `${file}.${process.pid}`;
          writeFileSync(partial, dumpToRestoreSql(stdout, template));
          renameSync(partial, file);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`orchestra-template:${template}`]);
      }
    } finally {
      client.release();
    }
    return { template, sql: readFileSync(file, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // no pg_dump on this machine
    throw error;
  } finally {
    await admin.end();
  }
}

/**
 * Migrates a new schema for a test: the same tables, functions, policies, grants, rows and migration
 * version tables `runMigrations` would give it, copied from a template migrated once. A schema that
 * already exists, a pool without a connection string, or a machine without pg_dump runs the migrations.
 */
export async function migrateTestSchema(options: MigrateOptions): Promise<void> {
  const schema = assertSchemaName(options.schema);
  const connectionString = options.pool.options.connectionString;
  const exists = async () => ((await options.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount ?? 0) > 0;
  const dump = connectionString === undefined || (await exists()) ? undefined : await templateDump(options, connectionString);
  if (dump === undefined) {
    await runMigrations(options);
    return;
  }
  const client = await options.pool.connect();
  try {
    // Names in a dump are schema-qualified and the template's name is a digest: replacing it is exact.
    await client.query(dump.sql.replaceAll(dump.template, schema));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
