import * as grpc from '@grpc/grpc-js';
import { fromGrpcError } from './errors';
import { newRequestId } from './ids';
import { PRINCIPAL_HEADER } from './principal';

/**
 * The client side of internal gRPC calls (the server is lib/grpc-server.ts).
 */
export { grpc };

/** The largest gRPC message any server or internal client accepts (a task's input or output is at most MAX_TASK_VALUE_BYTES of it). */
export const GRPC_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface GrpcClientOptions {
  /** The bearer token the call sends: the services' token, a worker token or a dispatch token. */
  internalToken: string;
  /** Deadline for calls that do not set their own. */
  defaultDeadlineMs?: number;
}

export interface CallOptions {
  deadlineMs?: number;
  /** Forward the end user's principal header (as received from the gateway). */
  principalHeader?: string;
  requestId?: string;
  /** The caller's trace context (W3C traceparent): the server's span continues it. */
  traceparent?: string | undefined;
  signal?: AbortSignal;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: Partial<grpc.CallOptions>,
  callback: (error: grpc.ServiceError | null, response: Res) => void,
) => grpc.ClientUnaryCall;
type StreamMethod<Req, Res> = (request: Req, metadata?: grpc.Metadata, options?: Partial<grpc.CallOptions>) => grpc.ClientReadableStream<Res>;

/** Metadata and call options for an internal call: service token, request id, deadline. */
export function callSetup(options: GrpcClientOptions, call: CallOptions = {}): { metadata: grpc.Metadata; callOptions: Partial<grpc.CallOptions> } {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${options.internalToken}`);
  metadata.set('x-request-id', call.requestId ?? newRequestId());
  if (call.principalHeader !== undefined) metadata.set(PRINCIPAL_HEADER, call.principalHeader);
  if (call.traceparent !== undefined) metadata.set('traceparent', call.traceparent);
  const deadlineMs = call.deadlineMs ?? options.defaultDeadlineMs ?? 5_000;
  return { metadata, callOptions: { deadline: new Date(Date.now() + deadlineMs) } };
}

/**
 * Calls a unary method and resolves to its response; a gRPC error becomes the AppError the server
 * raised (code, reason and field survive the hop).
 */
export function unaryCall<Req, Res>(
  client: grpc.Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: GrpcClientOptions,
  call: CallOptions = {},
): Promise<Res> {
  const { metadata, callOptions } = callSetup(options, call);
  return new Promise<Res>((resolve, reject) => {
    const pending = method.call(client, request, metadata, callOptions, (error, response) => {
      call.signal?.removeEventListener('abort', onAbort);
      if (error) reject(fromGrpcError(error));
      else resolve(response);
    });
    const onAbort = () => pending.cancel();
    call.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Opens a server stream with the service token, request id and deadline set. */
export function serverStreamCall<Req, Res>(
  client: grpc.Client,
  method: StreamMethod<Req, Res>,
  request: Req,
  options: GrpcClientOptions,
  call: CallOptions = {},
): grpc.ClientReadableStream<Res> {
  const { metadata, callOptions } = callSetup(options, call);
  const stream = method.call(client, request, metadata, callOptions);
  if (call.signal) {
    const onAbort = () => stream.cancel();
    if (call.signal.aborted) onAbort();
    else call.signal.addEventListener('abort', onAbort, { once: true });
    stream.on('close', () => call.signal?.removeEventListener('abort', onAbort));
  }
  return stream;
}

/** Standard channel options for clients of internal services. */
export const INTERNAL_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // Spread calls over every address the target resolves to (a headless Service's pods, with
  // `dns:///name:port`); with one address it behaves like the default.
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': GRPC_MAX_MESSAGE_BYTES,
};

export const insecureCredentials = (): grpc.ChannelCredentials => grpc.credentials.createInsecure();
