import { z } from 'zod';
import { commonEnv, createLogger, createPool, env, loadConfig, runMigrations } from '@orchestra/lib';
import { createKeyRing } from './auth/key-ring';
import { identityConfigSchema } from './config';
import { SERVICE, TENANT_ROLE } from './deps';
import { migrationsDir } from './schema';

/**
 * `npm run rotate-signing-key -w @orchestra/identity [-- --publish-ahead <seconds>]`
 *
 * Makes a new JWT signing key. By default it signs at once (what you want after a leak); with
 * --publish-ahead it is published first and signs later. The old key stops signing and stays in the
 * JWKS until every token it signed has expired. Running services pick the new key up within 30 s.
 */
const rotateConfigSchema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  DATABASE_URL: commonEnv.DATABASE_URL,
  DB_SCHEMA: env.string('identity'),
  SIGNING_KEY_ALGORITHM: identityConfigSchema.shape.SIGNING_KEY_ALGORITHM,
  ACCESS_TOKEN_TTL_SECONDS: identityConfigSchema.shape.ACCESS_TOKEN_TTL_SECONDS,
});

async function main(): Promise<void> {
  const config = loadConfig(rotateConfigSchema);
  const flag = process.argv.indexOf('--publish-ahead');
  const publishAhead = flag >= 0 ? Number(process.argv[flag + 1]) : 0;
  if (!Number.isInteger(publishAhead) || publishAhead < 0) throw new Error('--publish-ahead expects a whole number of seconds');
  const log = createLogger({ service: `${SERVICE}-rotate-signing-key`, level: config.LOG_LEVEL });
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, applicationName: `${SERVICE}-rotate-signing-key`, log, max: 2 });
  try {
    await runMigrations({ pool, schema: config.DB_SCHEMA, dir: migrationsDir, tenantRole: TENANT_ROLE, log });
    const ring = createKeyRing({ pool, log, algorithm: config.SIGNING_KEY_ALGORITHM, accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS });
    const key = await ring.rotate(publishAhead);
    const { keys } = await ring.jwks();
    log.info('signing key rotation done', { kid: key.kid, algorithm: key.algorithm, signsFrom: key.activatesAt.toISOString(), publishedKeys: keys.map((k) => k.kid) });
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`rotate-signing-key: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
