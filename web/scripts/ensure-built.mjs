#!/usr/bin/env node
// Builds the web app into web/dist when the build is missing or older than its sources, else does
// nothing. `npm start` and the browser tests call it so the gateway always serves a current app:
//   node web/scripts/ensure-built.mjs            (prints what it did; exit code 1 if the build failed)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = join(WEB, 'dist', 'index.html');
const INPUTS = ['src', 'index.html', 'vite.config.mts', 'package.json'];

/** The newest modification time under `path` (files and folders). */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

const sourcesAt = Math.max(...INPUTS.map((p) => join(WEB, p)).filter(existsSync).map(newest));
const builtAt = existsSync(BUILT) ? statSync(BUILT).mtimeMs : 0;
if (builtAt >= sourcesAt) {
  console.log(`web: ${BUILT} is up to date`);
  process.exit(0);
}

console.log(builtAt === 0 ? 'web: no build yet, building web/dist' : 'web: sources changed since the last build, rebuilding web/dist');
// Callers such as jest set NODE_ENV=test, which would give a development build of React.
process.env.NODE_ENV = 'production';
try {
  const { build } = await import('vite');
  await build({ root: WEB, configFile: join(WEB, 'vite.config.mts'), logLevel: 'warn' });
} catch (error) {
  console.error(`web: the build failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
console.log(`web: built ${BUILT}`);
