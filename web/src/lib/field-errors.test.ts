import { ApiError } from './api/errors';
import { blamesField, configViolationsOf, fieldErrorFor } from './field-errors';

const refused = (message: string, extensions: Record<string, unknown> = {}) => new ApiError({ message, code: 'BAD_USER_INPUT', reason: 'CONFIG_INVALID', field: 'config', extensions });

describe('field errors', () => {
  it('finds the message for a field, with or without the input. prefix', () => {
    const error = new ApiError({ message: 'slug is taken', code: 'BAD_USER_INPUT', field: 'input.slug' });
    expect(fieldErrorFor(error, 'slug')).toBe('slug is taken');
    expect(blamesField(error, ['name', 'slug'])).toBe(true);
    expect(fieldErrorFor(error, 'name')).toBeUndefined();
  });

  it('drops the input. prefix of the API’s field path from the message', () => {
    const error = new ApiError({ message: 'input.slug "Support Summarizer" is not valid: use 2-63 lowercase letters', code: 'BAD_USER_INPUT', field: 'input.slug' });
    expect(fieldErrorFor(error, 'slug')).toBe('slug "Support Summarizer" is not valid: use 2-63 lowercase letters');
  });

  it('lists config violations from the error’s extension', () => {
    const error = refused('config does not match', { violations: [{ path: '/model', message: 'must be equal to one of the allowed values' }, { path: '', message: 'must be object' }] });
    expect(configViolationsOf(error)).toEqual([
      { path: '/model', message: 'must be equal to one of the allowed values' },
      { path: '', message: 'must be object' },
    ]);
  });

  it('reads config violations back from the message when the extension is missing', () => {
    const error = refused("config does not match the app's config schema: /extra is not allowed (not in the schema); /routing/region is required; /temperature must be <= 2");
    expect(configViolationsOf(error)).toEqual([
      { path: '/extra', message: 'is not allowed (not in the schema)' },
      { path: '/routing/region', message: 'is required' },
      { path: '/temperature', message: 'must be <= 2' },
    ]);
    expect(configViolationsOf(new ApiError({ message: 'nope', code: 'BAD_USER_INPUT' }))).toBeUndefined();
  });
});
