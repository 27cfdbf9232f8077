import { z } from 'zod';
import { ConfigError, env, loadConfig } from './config';

const schema = z.object({
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  PORT: env.port(4000),
  INTERNAL_TOKEN: env.secret(32),
  MODE: env.oneOf(['a', 'b'] as const, 'a'),
  DEBUG: env.bool(false),
});

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const config = loadConfig(schema, { DATABASE_URL: 'postgres://x@h/db', INTERNAL_TOKEN: 'x'.repeat(32) });
    expect(config).toEqual({ DATABASE_URL: 'postgres://x@h/db', PORT: 4000, INTERNAL_TOKEN: 'x'.repeat(32), MODE: 'a', DEBUG: false });
  });

  it('names the variable, what it expects and what it got, in one line', () => {
    const run = () => loadConfig(schema, { DATABASE_URL: 'mysql://h/db', INTERNAL_TOKEN: 'x'.repeat(32) });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow('config: DATABASE_URL expects a URL starting with postgres:// or postgresql:// (got "mysql://h/db")');
  });

  it('says when a variable is missing', () => {
    expect(() => loadConfig(schema, { INTERNAL_TOKEN: 'x'.repeat(32) })).toThrow(/^config: DATABASE_URL expects a postgres\/postgresql URL \(it is not set\)$/);
  });

  it('does not echo secrets', () => {
    let message = '';
    try {
      loadConfig(schema, { DATABASE_URL: 'postgres://h/db', INTERNAL_TOKEN: 'short-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('config: INTERNAL_TOKEN expects a secret of at least 32 characters (got a value that does not fit)');
    expect(message).not.toContain('short-secret');
  });

  it('rejects a bad port and a bad enum', () => {
    expect(() => loadConfig(schema, { DATABASE_URL: 'postgres://h/db', INTERNAL_TOKEN: 'x'.repeat(32), PORT: 'eighty' })).toThrow(
      'config: PORT expects a port number (0-65535) (got "eighty")',
    );
    expect(() => loadConfig(schema, { DATABASE_URL: 'postgres://h/db', INTERNAL_TOKEN: 'x'.repeat(32), MODE: 'c' })).toThrow(
      'config: MODE expects one of a, b (got "c")',
    );
  });
});
