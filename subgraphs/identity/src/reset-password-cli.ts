// `npm run reset-password -w @orchestra/identity -- <email>`: sets a new password for an account
// (NEW_PASSWORD, or a generated one printed once), signs it out everywhere and records it in the
// audit trail. For operators with database access, e.g. when the first admin's password is lost.
import { z } from 'zod';
import { AppError, commonEnv, createLogger, createPool, createRedis, createTokenRevocations, env, loadConfig } from '@orchestra/lib';
import { createPasswordHasher } from './auth/passwords';
import { identityConfigSchema } from './config';
import { SERVICE } from './deps';
import { resetPassword } from './reset-password';

const cliConfigSchema = z.object({
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  DATABASE_URL: commonEnv.DATABASE_URL,
  REDIS_URL: commonEnv.REDIS_URL,
  REDIS_PREFIX: commonEnv.REDIS_PREFIX,
  DB_SCHEMA: env.string('identity'),
  PASSWORD_MIN_LENGTH: identityConfigSchema.shape.PASSWORD_MIN_LENGTH,
  PASSWORD_HASH_MEMORY_KIB: identityConfigSchema.shape.PASSWORD_HASH_MEMORY_KIB,
  PASSWORD_HASH_ITERATIONS: identityConfigSchema.shape.PASSWORD_HASH_ITERATIONS,
  PASSWORD_HASH_PARALLELISM: identityConfigSchema.shape.PASSWORD_HASH_PARALLELISM,
  /** The new password; unset, one is generated and printed once. */
  NEW_PASSWORD: z.string().min(1).optional(),
});

async function main(args: string[]): Promise<number> {
  const [email, ...rest] = args;
  if (email === undefined || rest.length > 0) {
    process.stderr.write('usage: npm run reset-password -w @orchestra/identity -- <email>   (NEW_PASSWORD=... to choose it)\n');
    return 2;
  }
  const config = loadConfig(cliConfigSchema);
  const log = createLogger({ service: `${SERVICE}-reset-password`, level: config.LOG_LEVEL });
  const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, applicationName: `${SERVICE}-reset-password`, log, max: 2 });
  const redis = createRedis({ url: config.REDIS_URL, name: `${SERVICE}-reset-password`, log });
  try {
    const reset = await resetPassword({
      pool,
      log,
      revocations: createTokenRevocations(redis, config.REDIS_PREFIX),
      hasher: createPasswordHasher({ memoryCost: config.PASSWORD_HASH_MEMORY_KIB, timeCost: config.PASSWORD_HASH_ITERATIONS, parallelism: config.PASSWORD_HASH_PARALLELISM }),
      minLength: config.PASSWORD_MIN_LENGTH,
      email,
      password: config.NEW_PASSWORD,
    });
    const ended = `${reset.sessionsEnded} session${reset.sessionsEnded === 1 ? '' : 's'} ended`;
    process.stdout.write(
      reset.generatedPassword === undefined
        ? `password of ${reset.email} reset (${ended})\n`
        : `password of ${reset.email} reset (${ended}); new password (shown once): ${reset.generatedPassword}\n`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    process.stderr.write(`reset-password: ${error.message}\n`);
    return 1;
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`reset-password: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
