// Runs the benchmarks and writes docs/benchmarks.md with the machine, the command and the numbers.
//   npm run bench                  (all)
//   npm run bench -- gateway       (one: gateway | dispatch | subscriptions)
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDispatch } from './dispatch';
import { benchGatewayOverhead } from './gateway-overhead';
import { benchSubscriptions } from './subscriptions';

const BENCHES: Record<string, () => Promise<string>> = {
  gateway: () => benchGatewayOverhead(),
  dispatch: () => benchDispatch(),
  subscriptions: () => benchSubscriptions(),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !(w in BENCHES));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')} (have: ${Object.keys(BENCHES).join(', ')})`);
  const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
  const sections: string[] = [];
  for (const name of names) {
    process.stdout.write(`bench: ${name}...\n`);
    const section = await BENCHES[name]!();
    process.stdout.write(`${section}\n`);
    sections.push(section);
  }
  const sha = execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, PostgreSQL and Redis on 127.0.0.1`;
  const doc = [
    '# Benchmarks',
    '',
    'Each benchmark measures Orchestra against a baseline taken in the same run on the same machine, and',
    'reports the ratio; absolute numbers move with the machine, ratios much less. Every service runs as',
    'its own process (the same `main.ts` as in production, started by the test harness), so numbers',
    'include real HTTP, gRPC, PostgreSQL and Redis round trips. They are not part of `npm test`.',
    '',
    `- Command: \`npm run bench${wanted.length > 0 ? ` -- ${wanted.join(' ')}` : ''}\``,
    `- Machine: ${machine}`,
    `- Commit: ${sha}, ${new Date().toISOString().slice(0, 10)}`,
    '',
    ...sections,
    // Earlier runs, kept by hand, so a change can be compared with what came before.
    ...(existsSync(join(__dirname, 'history.md')) ? ['', readFileSync(join(__dirname, 'history.md'), 'utf8').trimEnd()] : []),
  ].join('\n');
  writeFileSync(join(__dirname, '..', 'docs', 'benchmarks.md'), `${doc}\n`);
  process.stdout.write('bench: wrote docs/benchmarks.md\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
