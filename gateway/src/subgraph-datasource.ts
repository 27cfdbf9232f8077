import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { PRINCIPAL_HEADER } from '@orchestra/lib';
import type { GatewayContext } from './context';

/** Sends every subgraph request with the caller's gateway-signed principal and the request id. */
export class SignedPrincipalDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const ctx = context as Partial<GatewayContext>;
    if (ctx.principalHeader === undefined || ctx.requestId === undefined) return;
    request.http?.headers.set(PRINCIPAL_HEADER, ctx.principalHeader);
    request.http?.headers.set('x-request-id', ctx.requestId);
    if (ctx.principal?.traceparent) request.http?.headers.set('traceparent', ctx.principal.traceparent);
  }
}
