#!/usr/bin/env node
// Runs every workspace's tests, several jest processes at once, and says which failed.
//   node scripts/test-all.mjs                 (what `npm test` runs after ensure-services)
//   TEST_CONCURRENCY=1 node scripts/test-all.mjs   (one at a time, as `npm test --workspaces` did)
//   node scripts/test-all.mjs lib tests/web       (only the jobs whose name contains one of these)
//
// Each workspace with a `test` script is one job, except `tests/` (the end-to-end suites, each of
// which starts a whole platform), where each test file is a job of its own, so the slow suites run
// beside each other instead of one after another. The slowest jobs start first. A job's output is
// printed whole when it ends (never interleaved), then a summary with each job's time.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
  console.error(`TEST_CONCURRENCY must be an integer from 1 to 16, got ${JSON.stringify(process.env.TEST_CONCURRENCY)}`);
  process.exit(2);
}

/** Test files under `dir` (relative to it), skipping node_modules and build output. */
function testFiles(dir, base = dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.tsc'].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(path, base));
    else if (entry.name.endsWith('.test.ts')) found.push(relative(base, path));
  }
  return found;
}

const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const jobs = [];
for (const workspace of rootPackage.workspaces) {
  const dir = join(ROOT, workspace);
  const script = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.test;
  if (!script) continue;
  const files = testFiles(dir);
  if (files.length === 0) continue;
  // Browser suites and whole-platform suites are the slow ones: one job per file, weighed by size
  // (a rough stand-in for how long they run); other workspaces run their unit suites as one job.
  if (workspace === 'tests') {
    for (const file of files) {
      const weight = statSync(join(dir, file)).size * (file.startsWith('web/') ? 4 : 2);
      jobs.push({ name: `${workspace}/${file}`, dir, command: `${script} ${file}`, weight });
    }
  } else {
    const weight = files.reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
    jobs.push({ name: workspace, dir, command: script, weight });
  }
}
jobs.sort((a, b) => b.weight - a.weight);
const only = process.argv.slice(2);
if (only.length > 0) jobs.splice(0, jobs.length, ...jobs.filter((job) => only.some((part) => job.name.includes(part))));

// Browser suites share one build of the web app, and the compiled-platform and chart suites one build
// of dist/ (scripts/build-dist.mjs): make both once, before any job starts, so no job rebuilds what
// another is reading.
for (const script of ['web/scripts/ensure-built.mjs', 'scripts/build-dist.mjs']) {
  const build = spawnSync(process.execPath, [join(ROOT, script)], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
process.env['ORCHESTRA_DIST_BUILT'] = '1';

const PATH = `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`;
const startedAt = Date.now();
const results = [];

function run(job) {
  return new Promise((resolve) => {
    const began = Date.now();
    const chunks = [];
    const child = spawn('sh', ['-c', job.command], { cwd: job.dir, env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    child.on('close', (code, signal) => {
      const seconds = Math.round((Date.now() - began) / 1000);
      const ok = code === 0;
      process.stdout.write(`\n=== ${ok ? 'PASS' : 'FAIL'} ${job.name} (${seconds}s${signal ? `, ${signal}` : ''})\n`);
      process.stdout.write(Buffer.concat(chunks));
      results.push({ name: job.name, ok, seconds });
      resolve();
    });
  });
}

const queue = [...jobs];
console.log(`test-all: ${jobs.length} jobs, ${concurrency} at a time`);
await Promise.all(
  Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await run(job);
  }),
);

const failed = results.filter((r) => !r.ok);
console.log(`\n=== summary (${Math.round((Date.now() - startedAt) / 1000)}s wall, ${concurrency} at a time)`);
for (const r of [...results].sort((a, b) => b.seconds - a.seconds)) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${String(r.seconds).padStart(4)}s  ${r.name}`);
if (failed.length > 0) {
  console.log(`\n${failed.length} of ${results.length} jobs failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exit(1);
}
console.log(`\nall ${results.length} jobs passed`);
