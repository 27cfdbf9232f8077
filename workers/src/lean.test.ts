import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A worker starts lean (issue 11): loading the worker and every built-in executor pulls in no
 * PostgreSQL driver, GraphQL server, Redis client, migration tool, browser driver or test helper.
 * (The browser executor loads playwright-core when its first task runs, the llm executor openai and
 * ajv with its first model call and schema, not before.)
 */
describe('the worker process', () => {
  it('loads no PostgreSQL, graphql, GraphQL server, Redis, browser driver, LLM client, JSON Schema validator or test helper code', () => {
    const script = [
      "require('./src/worker.ts');",
      "require('./src/executors/registry.ts');",
      'process.stdout.write(JSON.stringify(Object.keys(require.cache)));',
    ].join('');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    const loaded = JSON.parse(out) as string[];
    // What it does load, so the check above cannot pass by seeing nothing.
    expect(loaded.some((path) => path.includes('/@grpc/grpc-js/'))).toBe(true);
    expect(loaded.some((path) => /lib\/src\/net-guard\.ts$/.test(path))).toBe(true);
    const heavy = loaded.filter(
      (path) =>
        /node_modules\/(pg|pg-pool|graphql|openai|ajv|mercurius|@apollo\/subgraph|ioredis|postgrator|playwright-core|s3rver)\//.test(path) ||
        /lib\/src\/(testing|launcher|openai-stand-in|db|subgraph|redis|migrate|audit-relay)\.ts$/.test(path),
    );
    expect(heavy).toEqual([]);
  });
});
