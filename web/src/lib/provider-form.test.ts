import { createInputOf, emptyProviderForm, providerFormOf, updateInputOf } from './provider-form';

describe('provider form', () => {
  const form = { ...emptyProviderForm(), name: 'openai', baseUrl: ' https://api.openai.com/v1 ', apiKeySecret: 'OPENAI_KEY', pricePer1MInput: '2.5', pricePer1MOutput: '10', requestsPerMinute: '600' };

  it('turns what was typed into the create input, leaving out what was left empty', () => {
    expect(createInputOf({ ...form, models: [{ alias: 'small', model: 'gpt-4o-mini', pricePer1MInput: '0.15', pricePer1MOutput: '0.6' }, { alias: '', model: '', pricePer1MInput: '', pricePer1MOutput: '' }] })).toEqual({
      input: {
        name: 'openai',
        baseUrl: 'https://api.openai.com/v1',
        apiKeySecret: 'OPENAI_KEY',
        models: [{ alias: 'small', model: 'gpt-4o-mini', pricePer1MInput: 0.15, pricePer1MOutput: 0.6 }],
        pricePer1MInput: 2.5,
        pricePer1MOutput: 10,
        requestsPerMinute: 600,
        workerLocal: false,
      },
    });
  });

  it('names each field that is not a number, or missing', () => {
    expect(createInputOf({ ...form, name: ' ', pricePer1MInput: 'cheap', tokensPerMinute: '1.5', models: [{ alias: 'x', model: '', pricePer1MInput: '1', pricePer1MOutput: '' }] })).toEqual({
      errors: {
        name: expect.stringContaining('Name the provider') as unknown,
        pricePer1MInput: 'The input price must be a number of US dollars, 0 or more',
        tokensPerMinute: 'Tokens per minute must be a whole number above 0 (or empty for none)',
        'models[0].model': expect.any(String) as unknown,
        'models[0].pricePer1MOutput': 'Give both prices of a model, or neither',
      },
    });
  });

  it('sends every field on update, null clearing the key and limits', () => {
    const existing = providerFormOf({ name: 'local', baseUrl: 'http://127.0.0.1:11434/v1', apiKeySecret: 'K', models: [], pricePer1MInput: 0, pricePer1MOutput: 0, requestsPerMinute: 10, workerLocal: true });
    expect(updateInputOf({ ...existing, apiKeySecret: '', requestsPerMinute: '' })).toEqual({
      input: { baseUrl: 'http://127.0.0.1:11434/v1', apiKeySecret: null, models: [], pricePer1MInput: 0, pricePer1MOutput: 0, requestsPerMinute: null, tokensPerMinute: null, timeoutMs: null, workerLocal: true },
    });
  });
});
