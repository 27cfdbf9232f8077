import { ApiError, apiErrorFromGraphQL, isNotFound, isRefreshable, presentError, toApiError } from './errors';

describe('API errors', () => {
  it('keeps the registry fields of the first error and counts the rest', () => {
    const error = apiErrorFromGraphQL(
      [
        { message: 'email is required', extensions: { code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'email', requestId: 'abc' } },
        { message: 'password is too short', extensions: { code: 'BAD_USER_INPUT', field: 'password', minLength: 10 } },
      ],
      200,
    );
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'INVALID_EMAIL', field: 'email', requestId: 'abc', message: 'email is required' });
    expect(error.errors.map((e) => e.field)).toEqual(['email', 'password']);
    // A refusal the user can act on reads as a plain message: no request id.
    expect(presentError(error)).toEqual({ title: 'Please check the input', message: 'email is required (and 1 more)', requestId: undefined });
    expect(presentError(new ApiError({ message: 'try later', code: 'UNAVAILABLE', requestId: 'r-7' })).requestId).toBe('r-7');
  });

  it('shows INTERNAL errors with their request id and nothing else', () => {
    const error = apiErrorFromGraphQL([{ message: 'Internal error (request id r-42)', extensions: { code: 'INTERNAL', requestId: 'r-42' } }], 200);
    const shown = presentError(error);
    expect(shown.title).toBe('Something went wrong');
    expect(shown.message).toContain('r-42');
    expect(shown.requestId).toBe('r-42');
  });

  it('takes the request id from the response header when the error lacks one', () => {
    expect(apiErrorFromGraphQL([{ message: 'nope', extensions: { code: 'FORBIDDEN' } }], 403, 'hdr-1').requestId).toBe('hdr-1');
  });

  it('treats an unknown code as INTERNAL', () => {
    expect(apiErrorFromGraphQL([{ message: 'odd', extensions: { code: 'SOMETHING_ELSE' } }], 200).code).toBe('INTERNAL');
    expect(apiErrorFromGraphQL([{ message: 'no extensions' }], 200).code).toBe('INTERNAL');
  });

  it('refreshes only for expired or revoked access tokens', () => {
    expect(isRefreshable(new ApiError({ message: '', code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' }))).toBe(true);
    expect(isRefreshable(new ApiError({ message: '', code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' }))).toBe(true);
    expect(isRefreshable(new ApiError({ message: '', code: 'UNAUTHENTICATED', reason: 'TOKEN_INVALID' }))).toBe(false);
    expect(isRefreshable(new ApiError({ message: '', code: 'FORBIDDEN', reason: 'TOKEN_EXPIRED' }))).toBe(false);
    expect(isRefreshable(new Error('x'))).toBe(false);
  });

  it('wraps anything thrown', () => {
    expect(toApiError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom' });
    expect(toApiError('text')).toMatchObject({ code: 'INTERNAL', message: 'text' });
    expect(presentError(new ApiError({ message: 'Orchestra cannot be reached', code: 'NETWORK' }))).toMatchObject({ title: 'Connection problem', message: 'Orchestra cannot be reached' });
  });

  it('treats an id that cannot name anything as not found', () => {
    expect(isNotFound(new ApiError({ message: 'id "x" is not a valid id', code: 'BAD_USER_INPUT', reason: 'INVALID_ID', field: 'id' }))).toBe(true);
    expect(isNotFound(new ApiError({ message: 'no such app', code: 'NOT_FOUND' }))).toBe(true);
    expect(isNotFound(new ApiError({ message: 'name is required', code: 'BAD_USER_INPUT', field: 'name' }))).toBe(false);
    expect(isNotFound(new Error('boom'))).toBe(false);
  });
});
