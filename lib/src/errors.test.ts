import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { GraphQLError } from 'graphql';
import { AppError, fromGrpcError, toAppError, toGrpcStatus } from './errors';
import { toClientGraphQLError } from './graphql-errors';

describe('error registry', () => {
  it('carries code, reason and field across a gRPC hop', () => {
    const original = new AppError('BAD_USER_INPUT', 'email is not an email address', { reason: 'INVALID_EMAIL', field: 'input.email' });
    const sent = toGrpcStatus(original, 'req_1');
    expect(sent.code).toBe(status.INVALID_ARGUMENT);
    const received = fromGrpcError(Object.assign(new Error(sent.details), sent) as ServiceError);
    expect(received).toMatchObject({ code: 'BAD_USER_INPUT', message: 'email is not an email address', reason: 'INVALID_EMAIL', field: 'input.email' });
  });

  it('maps plain gRPC statuses without our metadata', () => {
    const err = Object.assign(new Error('14 UNAVAILABLE: no connection'), { code: status.UNAVAILABLE, details: 'no connection', metadata: new Metadata() });
    expect(fromGrpcError(err)).toMatchObject({ code: 'UNAVAILABLE', message: 'no connection' });
  });

  it('masks internal errors with the request id and keeps the cause', () => {
    const cause = new Error('connection terminated unexpectedly');
    const appError = toAppError(cause);
    expect(appError.code).toBe('INTERNAL');
    expect(appError.cause).toBe(cause);
    const client = toClientGraphQLError(cause, 'req_abc');
    expect(client.message).toBe('Internal error (request id req_abc)');
    expect(client.extensions).toEqual({ code: 'INTERNAL', requestId: 'req_abc' });
    expect(JSON.stringify(client.toJSON())).not.toContain('connection terminated');
    const grpcStatus = toGrpcStatus(cause, 'req_abc');
    expect(grpcStatus.details).toBe('internal error (request id req_abc)');
  });

  it('reads the code of a GraphQLError from its extensions', () => {
    const err = new GraphQLError('no', { extensions: { code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' } });
    expect(toAppError(err)).toMatchObject({ code: 'FORBIDDEN', reason: 'ROLE_TOO_LOW' });
  });
});
