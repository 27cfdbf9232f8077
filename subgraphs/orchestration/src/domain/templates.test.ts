import { collectTemplates, InputLimitError, parsePath, parseTemplate, referencedSecrets, referencedSteps, resolveTemplates, TemplateError } from './templates';
import { resolveDispatchInput } from '../secrets/dispatch-secrets';

const context = {
  input: { url: 'https://example.test/x', n: 3, tags: ['a', 'b'] },
  steps: { fetch: { output: { status: 200, body: { items: [{ name: 'first' }, { name: 'second' }], 'odd key': true } } } },
  run: { id: 'run-1' },
};

describe('templates', () => {
  it('parses paths with names, indexes and quoted keys', () => {
    expect(parsePath('steps.fetch.output.body.items[1].name')).toEqual(['steps', 'fetch', 'output', 'body', 'items', 1, 'name']);
    expect(parsePath('steps.fetch.output.body["odd key"]')).toEqual(['steps', 'fetch', 'output', 'body', 'odd key']);
    expect(parseTemplate('steps.fetch-data.output')).toEqual({ root: 'steps', stepId: 'fetch-data', path: [] });
    expect(() => parseTemplate('steps.fetch.result')).toThrow(TemplateError);
  });

  it('collects every template in a JSON value', () => {
    expect(collectTemplates({ a: '{{ input.url }}', b: ['x {{steps.fetch.output}} y {{ run.id }}'], c: 5 })).toEqual(['input.url', 'steps.fetch.output', 'run.id']);
  });

  it('names the steps a value reads, once each, skipping expressions that do not parse', () => {
    expect(referencedSteps({ a: '{{ steps.fetch.output.body }}', b: ['{{ steps.fetch.output }} {{ steps.parse-2.output.x }}', '{{ input.url }} {{ run.id }}'], c: '{{ steps.bad }}' })).toEqual([
      'fetch',
      'parse-2',
    ]);
    expect(referencedSteps({ n: 1, s: 'plain' })).toEqual([]);
  });

  it('replaces a whole-string template by the value itself, keeping its type', () => {
    expect(resolveTemplates({ n: '{{ input.n }}', items: '{{ steps.fetch.output.body.items }}', tag: '{{ input.tags[1] }}' }, context)).toEqual({
      n: 3,
      items: [{ name: 'first' }, { name: 'second' }],
      tag: 'b',
    });
  });

  it('interpolates templates inside longer strings', () => {
    expect(resolveTemplates(['GET {{ input.url }} -> {{ steps.fetch.output.status }} {{ steps.fetch.output.body.items[0] }}', 'run {{ run.id }}'], context)).toEqual([
      'GET https://example.test/x -> 200 {"name":"first"}',
      'run run-1',
    ]);
  });

  it('names the missing part when a reference does not resolve', () => {
    expect(() => resolveTemplates('{{ steps.fetch.output.body.items[5].name }}', context)).toThrow(/steps\.fetch\.output\.body\.items has no item \[5\]/);
    expect(() => resolveTemplates('{{ input.missing }}', context)).toThrow(/input has no field "missing"/);
    expect(() => resolveTemplates('{{ steps.other.output }}', context)).toThrow(/step "other" has no output/);
  });

  it('stops resolving at the budget: thousands of copies of a large output are refused before they are built (issue 9 item 8)', async () => {
    const big = { steps: { big: { output: { text: 'x'.repeat(1024 * 1024) } } }, input: {}, run: { id: 'run-1' } };
    const placed = Array.from({ length: 5_000 }, () => '{{ steps.big.output }}');
    const budget = { maxBytes: 8 * 1024 * 1024, used: 0 };
    expect(() => resolveTemplates({ all: placed }, big, budget)).toThrow(InputLimitError);
    expect(budget.used).toBeLessThan(10 * 1024 * 1024);
    // Interpolated into one string: the same bound, before the string is built.
    expect(() => resolveTemplates(placed.join(' '), big, { maxBytes: 8 * 1024 * 1024, used: 0 })).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE', message: expect.stringContaining('{{ steps.big.output }}') }));
    // Dispatch resolves with the task value limit, and refuses an input nested deeper than a worker decodes.
    await expect(resolveDispatchInput({ all: placed }, big, 'org', () => Promise.resolve(new Map()))).rejects.toMatchObject({ name: 'InputLimitError', code: 'INPUT_TOO_LARGE' });
    let deep: unknown = 1;
    for (let i = 0; i < 31; i += 1) deep = { d: deep };
    const nested = { steps: { deep: { output: deep } }, input: {}, run: { id: 'run-1' } };
    await expect(resolveDispatchInput({ value: '{{ steps.deep.output }}' }, nested, 'org', () => Promise.resolve(new Map()))).resolves.toMatchObject({ input: { value: deep } });
    await expect(resolveDispatchInput({ at: { value: '{{ steps.deep.output }}' } }, nested, 'org', () => Promise.resolve(new Map()))).rejects.toMatchObject({ code: 'INPUT_TOO_DEEP', message: expect.stringContaining('input.at.value') });
  });

  it('leaves values without templates alone', () => {
    const value = { a: 1, b: [true, null, 'plain {braces}'], c: { d: 'x' } };
    expect(resolveTemplates(value, context)).toEqual(value);
  });

  it('reads secrets only when a dispatch supplies them, by name, nothing after the name', () => {
    expect(parseTemplate('secrets.API_KEY')).toEqual({ root: 'secrets', name: 'API_KEY', path: [] });
    expect(parseTemplate('secrets["db_password"]')).toEqual({ root: 'secrets', name: 'db_password', path: [] });
    expect(() => parseTemplate('secrets.API_KEY.length')).toThrow(/nothing after the name/);
    expect(() => parseTemplate('secrets')).toThrow(TemplateError);
    expect(referencedSecrets({ a: 'Bearer {{ secrets.TOKEN }}', b: ['{{ secrets.TOKEN }}', '{{secrets.OTHER}}', '{{ input.x }}', '{{ secrets.bad.path }}'] })).toEqual(['TOKEN', 'OTHER']);
    const template = { auth: 'Bearer {{ secrets.TOKEN }}', raw: '{{ secrets.TOKEN }}' };
    expect(resolveTemplates(template, { ...context, secrets: { TOKEN: 't0k3n' } })).toEqual({ auth: 'Bearer t0k3n', raw: 't0k3n' });
    expect(() => resolveTemplates(template, context)).toThrow(/no secret "TOKEN"/);
    // An inherited property is not a secret.
    expect(() => resolveTemplates('{{ secrets.constructor }}', { ...context, secrets: {} })).toThrow(/no secret "constructor"/);
  });

  it('reads the item and its index in the tasks of a forEach step only', () => {
    const item = { value: { name: 'report.pdf', size: 12 }, index: 7 };
    expect(resolveTemplates({ file: '{{ item.name }}', whole: '{{ item }}', at: '{{ itemIndex }}', label: '#{{ itemIndex }} {{ item.name }}' }, { ...context, item })).toEqual({
      file: 'report.pdf',
      whole: { name: 'report.pdf', size: 12 },
      at: 7,
      label: '#7 report.pdf',
    });
    expect(() => resolveTemplates('{{ item.name }}', context)).toThrow(/item is set only in the tasks of a forEach step/);
    expect(() => resolveTemplates('{{ item.missing }}', { ...context, item })).toThrow(/item has no field "missing"/);
    expect(() => parseTemplate('itemIndex.x')).toThrow(/nothing follows it/);
  });
});
