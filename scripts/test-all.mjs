#!/usr/bin/env node
// Runs every workspace's tests, several jest processes at once, and says which failed.
//   node scripts/test-all.mjs                 (what `npm test` runs after ensure-services)
//   TEST_CONCURRENCY=1 node scripts/test-all.mjs   (one at a time, as `npm test --workspaces` did)
//   node scripts/test-all.mjs lib tests/web       (only the workspaces and tests/ files whose name contains one of these;
//                                                  a word no such name contains picks the test files whose path does)
//   node scripts/test-all.mjs --record-times      (also write each passing test file's seconds to scripts/test-times.json;
//                                                  --record-times=<file> writes the refreshed table there instead)
//   node scripts/test-all.mjs --list              (print the jobs, their estimated seconds and files; run nothing)
//
// Jobs: each file of `tests/` (the end-to-end suites, each of which starts a whole platform) is a job
// of its own, so the slow suites run beside each other. Every other workspace's unit files are packed
// into as few jobs as keep each under about GROUP_SECONDS, the slowest file first into the lightest
// job; a workspace that fits is one job named after it, one that does not gives jobs named
// `<workspace> [i/n]`. Each job is one jest process running its files in band (--runInBand): the
// runner, not jest, decides how many test files run at once (TEST_CONCURRENCY; jest's own workers on
// top of it put three or four suites on 2 cores and starved the timed ones).
//
// The slowest jobs start first, weighed by scripts/test-times.json: the seconds each test file took
// when it last passed under --record-times (its time inside jest, from jest's --json results). A file
// not in the table is weighed by its size, at the seconds per byte its workspace's timed files took.
// A job's output is printed whole when it ends (never interleaved), then a summary with each job's time.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve as resolvePath } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const TIMES_FILE = join(ROOT, 'scripts', 'test-times.json');
/** A unit-test job's target length: long enough that jest's start-up is a small part of it, short enough to pack well. */
const GROUP_SECONDS = 150;
/** What starting one jest process costs a job (transforming and loading the harness), seconds. */
const JOB_START_SECONDS = 4;
/** Seconds per byte of test file when a workspace has no timed file yet (tests/: each file starts a platform). */
const DEFAULT_SECONDS_PER_BYTE = { unit: 1 / 1000, tests: 2 / 1000, 'tests/web': 4 / 1000 };

const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
  console.error(`TEST_CONCURRENCY must be an integer from 1 to 16, got ${JSON.stringify(process.env.TEST_CONCURRENCY)}`);
  process.exit(2);
}
const flags = process.argv.slice(2).filter((arg) => arg.startsWith('--'));
const only = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
for (const flag of flags) {
  if (flag !== '--list' && flag !== '--record-times' && !flag.startsWith('--record-times=')) {
    console.error(`unknown option ${flag} (the options are --list and --record-times[=<file>])`);
    process.exit(2);
  }
}
const recordFlag = flags.find((flag) => flag === '--record-times' || flag.startsWith('--record-times='));
/** Where --record-times writes the refreshed table (by default over the committed one). */
const recordTo = recordFlag === undefined ? undefined : recordFlag.includes('=') ? resolvePath(recordFlag.slice(recordFlag.indexOf('=') + 1)) : TIMES_FILE;

/** Test files under `dir` (relative to it), skipping node_modules and build output. */
function testFiles(dir, base = dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.tsc'].includes(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(path, base));
    else if (entry.name.endsWith('.test.ts')) found.push(relative(base, path));
  }
  return found.sort();
}

/** Seconds per test file (repository-relative path) from the last --record-times run. */
const recorded = existsSync(TIMES_FILE) ? JSON.parse(readFileSync(TIMES_FILE, 'utf8')) : {};

/** Which rate a file's size is turned into seconds at, when it has no recorded time. */
const kindOf = (path) => (path.startsWith('tests/web/') ? 'tests/web' : path.startsWith('tests/') ? 'tests' : 'unit');

const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
/** Every test file: where it is, its size, its recorded seconds (if any). */
const files = [];
for (const workspace of rootPackage.workspaces) {
  const dir = join(ROOT, workspace);
  const script = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.test;
  if (!script) continue;
  for (const file of testFiles(dir)) {
    const path = `${workspace}/${file}`;
    files.push({ workspace, dir, script, file, path, bytes: statSync(join(dir, file)).size, seconds: recorded[path] });
  }
}
// A file without a recorded time is weighed at its workspace's seconds per byte (or its kind's, or the default).
const rate = (matches) => {
  const timed = files.filter((f) => f.seconds !== undefined && matches(f));
  const bytes = timed.reduce((sum, f) => sum + f.bytes, 0);
  return bytes > 0 ? timed.reduce((sum, f) => sum + f.seconds, 0) / bytes : undefined;
};
for (const f of files) {
  if (f.seconds !== undefined) continue;
  const kind = kindOf(f.path);
  const perByte =
    rate((g) => g.workspace === f.workspace && kindOf(g.path) === kind) ?? rate((g) => kindOf(g.path) === kind) ?? DEFAULT_SECONDS_PER_BYTE[kind];
  f.seconds = f.bytes * perByte;
}

// What a word on the command line picks: a unit workspace by its name, a tests/ file by its path; a word
// that names neither picks the test files whose path contains it (`fair-dispatch`).
const nameOf = (f) => (f.workspace === 'tests' ? f.path : f.workspace);
const picked = (part) => (files.some((f) => nameOf(f).includes(part)) ? (f) => nameOf(f).includes(part) : (f) => f.path.includes(part));
const selected = only.length === 0 ? files : files.filter((f) => only.some((part) => picked(part)(f)));

const jobs = [];
for (const workspace of new Set(selected.map((f) => f.workspace))) {
  const mine = selected.filter((f) => f.workspace === workspace).sort((a, b) => b.seconds - a.seconds);
  const { dir, script } = mine[0];
  if (workspace === 'tests') {
    for (const f of mine) jobs.push({ name: f.path, dir, command: `${script} ${f.file}`, files: [f], weight: JOB_START_SECONDS + f.seconds });
    continue;
  }
  // Longest processing time first: each file (slowest first) into the job with the least so far.
  const total = mine.reduce((sum, f) => sum + f.seconds, 0);
  const groups = Array.from({ length: Math.max(1, Math.round(total / GROUP_SECONDS)) }, () => ({ files: [], seconds: 0 }));
  for (const f of mine) {
    const lightest = groups.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    lightest.files.push(f);
    lightest.seconds += f.seconds;
  }
  const filled = groups.filter((g) => g.files.length > 0).sort((a, b) => b.seconds - a.seconds);
  filled.forEach((g, i) => {
    const paths = g.files.map((f) => f.file).sort();
    jobs.push({
      name: filled.length === 1 ? workspace : `${workspace} [${i + 1}/${filled.length}]`,
      dir,
      command: `${script} --runInBand --runTestsByPath ${paths.join(' ')}`,
      files: g.files,
      weight: JOB_START_SECONDS + g.seconds,
    });
  });
}
jobs.sort((a, b) => b.weight - a.weight);
if (flags.includes('--list')) {
  for (const job of jobs) {
    const known = job.files.filter((f) => recorded[f.path] !== undefined).length;
    console.log(`${String(Math.round(job.weight)).padStart(5)}s  ${job.name}  (${job.files.length} files, ${job.files.length - known} weighed by size)`);
    if (job.files.length > 1) console.log(`        ${job.files.map((f) => f.file).sort().join(' ')}`);
  }
  const total = jobs.reduce((sum, job) => sum + job.weight, 0);
  console.log(`${jobs.length} jobs, ${Math.round(total)} s estimated in all, ${Math.round(Math.max(total / concurrency, jobs[0]?.weight ?? 0))} s or more at ${concurrency} at a time`);
  process.exit(0);
}

// Browser suites share one build of the web app, and the compiled-platform and chart suites one build
// of dist/ (scripts/build-dist.mjs): make both once, before any job starts, so no job rebuilds what
// another is reading. The unit suites read neither.
for (const script of jobs.some((job) => job.name.startsWith('tests/')) ? ['web/scripts/ensure-built.mjs', 'scripts/build-dist.mjs'] : []) {
  const build = spawnSync(process.execPath, [join(ROOT, script)], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
process.env['ORCHESTRA_DIST_BUILT'] = '1';

const PATH = `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`;
const resultsDir = recordTo ? mkdtempSync(join(tmpdir(), 'test-all-')) : undefined;
const startedAt = Date.now();
const results = [];
/** Seconds each passing file took in this run (repository-relative path → seconds), for --record-times. */
const measured = {};

function run(job, index) {
  return new Promise((resolve) => {
    const began = Date.now();
    const chunks = [];
    const resultsFile = resultsDir && join(resultsDir, `${index}.json`);
    const command = resultsFile ? `${job.command} --json --outputFile=${resultsFile}` : job.command;
    const child = spawn('sh', ['-c', command], { cwd: job.dir, env: { ...process.env, PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    child.on('close', (code, signal) => {
      const seconds = Math.round((Date.now() - began) / 1000);
      const ok = code === 0;
      process.stdout.write(`\n=== ${ok ? 'PASS' : 'FAIL'} ${job.name} (${seconds}s${signal ? `, ${signal}` : ''})\n`);
      if (job.files.length > 1) process.stdout.write(`files: ${job.files.map((f) => f.file).sort().join(' ')}\n`);
      process.stdout.write(Buffer.concat(chunks));
      results.push({ name: job.name, ok, seconds });
      if (resultsFile && existsSync(resultsFile)) {
        for (const file of JSON.parse(readFileSync(resultsFile, 'utf8')).testResults ?? []) {
          if (file.status !== 'passed') continue;
          measured[relative(ROOT, file.name)] = Math.round((file.endTime - file.startTime) / 100) / 10;
        }
      }
      resolve();
    });
  });
}

const queue = jobs.map((job, index) => ({ job, index }));
console.log(`test-all: ${jobs.length} jobs, ${concurrency} at a time`);
await Promise.all(
  Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await run(next.job, next.index);
  }),
);

const failed = results.filter((r) => !r.ok);
console.log(`\n=== summary (${Math.round((Date.now() - startedAt) / 1000)}s wall, ${concurrency} at a time)`);
for (const r of [...results].sort((a, b) => b.seconds - a.seconds)) console.log(`${r.ok ? 'pass' : 'FAIL'}  ${String(r.seconds).padStart(4)}s  ${r.name}`);
if (resultsDir) {
  // Files not run (or not passed) this time keep their old time; files that no longer exist are dropped.
  const present = new Set(files.map((f) => f.path));
  const merged = Object.fromEntries(
    Object.entries({ ...recorded, ...measured })
      .filter(([path]) => present.has(path))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  writeFileSync(recordTo, `${JSON.stringify(merged, null, 2)}\n`);
  rmSync(resultsDir, { recursive: true, force: true });
  console.log(`\n${Object.keys(measured).length} files' times written to ${recordTo}`);
}
if (failed.length > 0) {
  console.log(`\n${failed.length} of ${results.length} jobs failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exit(1);
}
console.log(`\nall ${results.length} jobs passed`);
