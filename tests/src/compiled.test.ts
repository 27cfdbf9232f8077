import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWorkflow, signUp, startRun, waitForRun } from '../orchestration/helpers';
import { startPlatform, type Platform } from './platform';

/**
 * Production runs compiled JavaScript (issue 11): every process of a platform started from the
 * dist/ that scripts/build-dist.mjs writes, under plain node, answers and runs a workflow end to end.
 */
describe('the compiled platform', () => {
  let platform: Platform;
  const ROOT = join(__dirname, '..', '..');

  beforeAll(async () => {
    // scripts/test-all.mjs builds dist/ once before every job (other suites read it meanwhile).
    if (process.env['ORCHESTRA_DIST_BUILT'] !== '1') execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-dist.mjs')], { stdio: 'pipe' });
    process.env['ORCHESTRA_COMPILED'] = '1';
    try {
      platform = await startPlatform({ services: ['identity', 'catalog', 'orchestration', 'audit'], workers: 1 });
    } finally {
      delete process.env['ORCHESTRA_COMPILED'];
    }
  });
  afterAll(() => platform?.stop());

  it('runs every process from dist/ without tsx, and runs a workflow through them', async () => {
    const processes = [platform.gateway, ...Object.values(platform.services), ...platform.workers].filter((s) => s !== undefined);
    expect(processes).toHaveLength(6);
    for (const service of processes) {
      const argv = readFileSync(`/proc/${service.process.pid}/cmdline`, 'utf8').split('\0');
      expect([service.name, argv.some((a) => a.includes('tsx'))]).toEqual([service.name, false]);
      expect([service.name, argv.includes('--conditions=orchestra-dist'), argv.some((a) => /\/dist\/main\.js$/.test(a))]).toEqual([service.name, true, true]);
    }
    const owner = await signUp(platform, 'Compiled Org');
    await createWorkflow(platform, owner, 'compiled-flow', [
      { id: 'shape', capability: 'transform', input: { value: { greeting: 'hello {{ input.name }}' } } },
    ]);
    const { id } = await startRun(platform, owner, { workflowName: 'compiled-flow', input: { name: 'dist' } });
    const run = await waitForRun(platform, owner, id);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks[0]!.output).toEqual({ greeting: 'hello dist' });
  });
});
