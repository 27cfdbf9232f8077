#!/usr/bin/env node
// Compiles the runtime workspaces to plain JavaScript for production (issue 11, "lean processes"):
//   node scripts/build-dist.mjs        (what `npm run build:dist` and the image run)
//
// Each workspace's src/**/*.ts (tests excluded) becomes dist/**/*.js beside it, CommonJS, one file
// per source file (no bundling: stack traces and `__dirname`-relative files such as schema.graphql
// and migrations/ stay where the sources expect them, which is why those are copied too). A process
// then runs as `node --conditions=orchestra-dist <workspace>/dist/main.js`: the condition makes
// `@orchestra/*` packages resolve to their dist/ (their package.json `exports`), while tsx, jest and
// TypeScript keep resolving to src/. No tsx, no transpile cache, no second process.
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
/** The workspaces a deployed process loads (tests, bench and the web app are not among them). */
export const RUNTIME_WORKSPACES = ['lib', 'proto', 'subgraphs/identity', 'subgraphs/catalog', 'subgraphs/orchestration', 'subgraphs/audit', 'subgraphs/notifications', 'gateway', 'workers'];
const ASSETS = /\.(graphql|sql|json)$/;

function walk(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walk(path));
    else files.push(path);
  }
  return files;
}

const started = Date.now();
let compiled = 0;
for (const workspace of RUNTIME_WORKSPACES) {
  const dir = join(ROOT, workspace);
  const src = join(dir, 'src');
  try {
    statSync(src);
  } catch {
    continue;
  }
  const out = join(dir, 'dist');
  rmSync(out, { recursive: true, force: true });
  const files = walk(src);
  const entryPoints = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'));
  await build({
    entryPoints,
    outdir: out,
    outbase: src,
    bundle: false,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const asset of files.filter((f) => ASSETS.test(f))) cpSync(asset, join(out, relative(src, asset)));
  compiled += entryPoints.length;
}
// The one script a deployment runs (the chart's migration job): scripts/migrate.ts → scripts/dist/migrate.js.
await build({ entryPoints: [join(ROOT, 'scripts', 'migrate.ts')], outdir: join(ROOT, 'scripts', 'dist'), bundle: false, platform: 'node', format: 'cjs', target: 'node20', sourcemap: 'linked', logLevel: 'warning' });
compiled += 1;
console.log(`build-dist: ${compiled} files in ${RUNTIME_WORKSPACES.length} workspaces compiled to dist/ in ${Date.now() - started} ms`);
