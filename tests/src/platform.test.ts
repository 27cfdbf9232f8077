import { execSync } from 'node:child_process';
import { startPlatform } from './platform';

describe('the platform harness', () => {
  it('stops at the first service that fails to start, names its error, and leaves no process behind', async () => {
    const started = Date.now();
    // A weak first-admin password is a config error: identity exits with one line naming it.
    const error = await startPlatform({ services: ['identity'], env: { identity: { ADMIN_PASSWORD: 'short' } } }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/identity exited \(code 1\) before it was listening/);
    expect(error?.message).toMatch(/config: ADMIN_PASSWORD/);
    expect(error?.message).not.toMatch(/gateway/);
    // Under the 90 s start timeout the gateway would otherwise wait out (a machine loaded by other
    // suites took 36 s to get identity as far as its config error, so the margin is wide).
    expect(Date.now() - started).toBeLessThan(75_000);
    const logDir = /logs in ([^)]+)\)/.exec(error!.message)?.[1];
    expect(logDir).toBeDefined();
    // Every process the harness starts has REDIS_PREFIX=test:<run id> in its environment.
    const marker = `REDIS_PREFIX=test:${logDir!.split('/').pop()!}`;
    const withMarker = () => execSync(`grep -l -a -F -- '${marker}' /proc/[0-9]*/environ 2>/dev/null || true`, { encoding: 'utf8' }).trim();
    await new Promise((r) => setTimeout(r, 500));
    expect(withMarker()).toBe('');
  });
});
