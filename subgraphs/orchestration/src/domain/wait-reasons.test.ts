import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, type EnumTypeDefinitionNode } from 'graphql';
import { isWaitReasonKind, WAIT_REASON_KINDS, waitReason } from './wait-reasons';

describe('wait reasons', () => {
  it('are the same kinds in the registry and in the GraphQL enum TaskWaitKind', () => {
    const document = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));
    const enumType = document.definitions.find((d): d is EnumTypeDefinitionNode => d.kind === Kind.ENUM_TYPE_DEFINITION && d.name.value === 'TaskWaitKind');
    expect(enumType?.values?.map((v) => v.name.value)).toEqual([...WAIT_REASON_KINDS]);
  });

  it('start now, and cut a long message (it may name keys a tenant chose)', () => {
    const before = Date.now();
    const reason = waitReason('RATE_LIMIT', 'x'.repeat(2_000), { limit: 'openai' });
    expect(reason.kind).toBe('RATE_LIMIT');
    expect(reason.message).toHaveLength(500);
    expect(reason.message.endsWith('…')).toBe(true);
    expect(Date.parse(reason.since)).toBeGreaterThanOrEqual(before);
    expect(reason.details).toEqual({ limit: 'openai' });
    expect(isWaitReasonKind('RATE_LIMIT')).toBe(true);
    expect(isWaitReasonKind('rate_limit')).toBe(false);
  });
});
