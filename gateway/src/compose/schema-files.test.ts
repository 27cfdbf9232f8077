import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, print } from 'graphql';
import { generateSchemaFiles } from './schema-files';
import { SUBGRAPHS } from './subgraphs';

const GATEWAY_DIR = join(__dirname, '..', '..');
const ROOT = join(GATEWAY_DIR, '..');
const TSX = require.resolve('tsx/cli');

const cli = (...args: string[]) => spawnSync(process.execPath, [TSX, join(__dirname, 'cli.ts'), ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

describe('the committed schema files and the subgraphs\' SDL', () => {
  it('the committed files are what the subgraphs compose to now', () => {
    for (const [name, content] of Object.entries(generateSchemaFiles())) {
      expect([name, readFileSync(join(GATEWAY_DIR, name), 'utf8') === content]).toEqual([name, true]);
    }
  });

  it('a change to a subgraph\'s SDL changes the supergraph and API schema (so a stale commit shows up)', () => {
    const identity = SUBGRAPHS.find((s) => s.name === 'identity')!;
    const changed = SUBGRAPHS.map((s) => (s === identity ? { ...s, typeDefs: parse(`${print(identity.typeDefs)}\nextend type Query { driftProbe: String }`) } : s));
    const before = generateSchemaFiles();
    const after = generateSchemaFiles(changed);
    expect(after['supergraph.graphql']).not.toBe(before['supergraph.graphql']);
    expect(after['supergraph.graphql']).toContain('driftProbe');
    expect(after['api-schema.graphql']).toContain('driftProbe');
    // Untagged, so third parties do not get it.
    expect(after['public-schema.graphql']).toBe(before['public-schema.graphql']);
  });

  it('`cli.ts check` passes on freshly written files and fails, naming the file, once one drifts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orchestra-schemas-'));
    expect(cli('write', '--dir', dir).status).toBe(0);
    expect(cli('check', '--dir', dir).status).toBe(0);
    appendFileSync(join(dir, 'supergraph.graphql'), '\n# edited by hand\n');
    const stale = cli('check', '--dir', dir);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(join(dir, 'supergraph.graphql'));
  }, 60_000);

  it('codegen:check (scripts/check-clean.mjs) fails when regenerated files differ from the commit', () => {
    const repo = mkdtempSync(join(tmpdir(), 'orchestra-check-clean-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    writeFileSync(join(repo, 'supergraph.graphql'), 'type Query { a: String }\n');
    git('add', '.');
    git('commit', '-q', '-m', 'generated');
    const check = () => spawnSync(process.execPath, [join(ROOT, 'scripts', 'check-clean.mjs'), 'supergraph.graphql'], { cwd: repo, encoding: 'utf8' });
    expect(check().status).toBe(0);
    writeFileSync(join(repo, 'supergraph.graphql'), 'type Query { a: String b: Int }\n');
    const failed = check();
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('supergraph.graphql');
  });
});
