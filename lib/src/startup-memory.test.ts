import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('releaseStartupMemory', () => {
  it("frees a start's garbage at once, shrinks the grown young generation once allocation is quiet, and exposes no gc", async () => {
    // A fresh process that starts like a service: lots of objects that survive a while (the young
    // generation grows), then are dropped.
    const script = `
      const { getHeapSpaceStatistics } = require('node:v8');
      const { releaseStartupMemory } = require('./src/startup-memory.ts');
      const young = () => Math.round(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').physical_space_size / 1048576);
      let kept = [];
      for (let round = 0; round < 40; round += 1) { for (let i = 0; i < 50000; i += 1) kept.push({ i, s: 'x' + i }); if (kept.length > 400000) kept = kept.slice(200000); }
      kept = null;
      // And garbage of its own, as a start leaves (parsed schemas, documents built once).
      let garbage = Array.from({ length: 300000 }, (_, i) => ({ i, s: 'y' + i }));
      garbage = null;
      const grown = young();
      const before = process.memoryUsage().heapUsed;
      const released = releaseStartupMemory({ settleMs: 6000, onSettled: (youngAfter) => {
        process.stdout.write(JSON.stringify({ grown, reported: released.youngBeforeMiB, youngAfter, freedMiB: Math.round((before - afterFirst) / 1048576), exposed: typeof globalThis.gc }));
        process.exit(0);
      } });
      const afterFirst = process.memoryUsage().heapUsed;
      setInterval(() => {}, 1000);
    `;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..'), timeout: 80_000 });
    const out = JSON.parse(stdout) as { grown: number; reported: number; youngAfter: number; freedMiB: number; exposed: string };
    // One comparison, so a failure shows every number.
    expect({ ...out, grownToAtLeast8: out.grown >= 8, shrunkToAQuarter: out.youngAfter <= out.grown / 4, freedOver5: out.freedMiB > 5 }).toEqual({
      ...out,
      exposed: 'undefined',
      reported: out.grown,
      grownToAtLeast8: true,
      shrunkToAQuarter: true,
      freedOver5: true,
    });
  }, 90_000); // up to three settle periods of 6 s in a child process started through tsx
});
