// `npm run verify-chain -w @orchestra/audit -- [<org id> | platform ...]`: verifies chains (all of
// them without arguments) and their archive files straight from the database, the platform chain
// included (no tenant can query it). Prints one JSON line per chain; exits 1 when anything is broken.
import { isAbsolute, resolve } from 'node:path';
import { commonEnv, createLogger, createPool, env, isUuid, loadConfig } from '@orchestra/lib';
import { z } from 'zod';
import { checkChain } from './chain/check';
import { createWitness } from './chain/witness';
import { listChains } from './store/chains';

const cliConfigSchema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  DATABASE_URL: commonEnv.DATABASE_URL,
  DB_SCHEMA: env.string('audit'),
  AUDIT_ARCHIVE_DIR: env.string('.orchestra/audit-archive'),
  AUDIT_WITNESS_DIR: env.string('.orchestra/audit-witness'),
});

async function main(args: string[]): Promise<number> {
  const config = loadConfig(cliConfigSchema);
  for (const chain of args) {
    if (chain !== 'platform' && !isUuid(chain)) throw new Error(`"${chain}" is neither an organization id nor "platform"`);
  }
  const log = createLogger({ service: 'audit-verify', level: config.LOG_LEVEL });
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, applicationName: 'orchestra-audit-verify', log, max: 1 });
  const archiveDir = isAbsolute(config.AUDIT_ARCHIVE_DIR) ? config.AUDIT_ARCHIVE_DIR : resolve(config.AUDIT_ARCHIVE_DIR);
  const witness = createWitness({ dir: isAbsolute(config.AUDIT_WITNESS_DIR) ? config.AUDIT_WITNESS_DIR : resolve(config.AUDIT_WITNESS_DIR), log });
  try {
    const chains = args.length > 0 ? args : (await listChains(pool)).map((c) => c.chain);
    let ok = true;
    for (const chain of chains) {
      const result = await checkChain(pool, chain, archiveDir, witness, log);
      ok &&= result.ok;
      process.stdout.write(`${JSON.stringify({ chain, ok: result.ok, verification: result.chain, archives: result.archives })}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    await pool.end();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`verify-chain: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
