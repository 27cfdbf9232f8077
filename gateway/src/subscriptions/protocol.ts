import { CloseCode, MessageType, parseMessage, stringifyMessage, type Message, type SubscribePayload } from 'graphql-ws';
import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';

/**
 * The graphql-transport-ws protocol (graphql-ws's), one connection at a time, in place of graphql-ws's
 * makeServer: the same messages, close codes and order, but an open subscription is one entry in its
 * connection's map — no suspended async function, parsed message, emitter closures, execution
 * arguments or async iterator held per subscription for as long as it is open — and an initialized
 * connection holds no timer. Parsing and validation of messages are graphql-ws's own (parseMessage).
 */

/** The socket as the protocol sees it (ws-transport.ts). */
export interface ProtocolSocket {
  readonly protocol: string;
  send(data: string): void;
  close(code: number, reason: string): void;
}

/** A live operation the connection holds until it ends (LiveSubscription). */
export interface Operation {
  /** The client completed it or the connection closed: end it without a message to the client. */
  cancel(): void;
}

/** What a subscribe message became. */
export type SubscribeOutcome =
  /** Sent as the operation's `error` message. */
  | { errors: readonly GraphQLFormattedError[] }
  /** One result, sent as `next` then `complete` (authenticateConnection). */
  | { result: FormattedExecutionResult }
  /** A subscription: `start` is called once it is registered; it reports its end through Connection.finish(). */
  | { operation: Operation; start(): void };

export interface ConnectionHooks<Extra> {
  /**
   * connection_init. Resolves to the ack's payload (or true for none), or false when refused — after
   * closing the socket with a code and reason of its own (Forbidden otherwise).
   */
  init(connection: Connection<Extra>, params: Readonly<Record<string, unknown>> | undefined): Promise<Record<string, unknown> | boolean>;
  subscribe(connection: Connection<Extra>, id: string, payload: SubscribePayload): Promise<SubscribeOutcome>;
  /** The connection closed; its operations were cancelled first. */
  closed(connection: Connection<Extra>): void;
}

export interface ProtocolOptions {
  /** How long a connection may wait before connection_init (graphql-ws: 3 s). */
  initTimeoutMs: number;
}

/** One connection's protocol state. `extra` is what the transport keeps of it (socket, address, user agent). */
export class Connection<Extra> {
  private initReceived = false;
  private acknowledged = false;
  private initTimer: NodeJS.Timeout | undefined;
  /** Open operations by id; null while a subscribe is being decided. */
  private readonly operations = new Map<string, Operation | null>();

  constructor(
    private readonly socket: ProtocolSocket,
    readonly extra: Extra,
    private readonly hooks: ConnectionHooks<Extra>,
    options: ProtocolOptions,
  ) {
    if (socket.protocol !== 'graphql-transport-ws') {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    if (options.initTimeoutMs > 0 && Number.isFinite(options.initTimeoutMs)) {
      this.initTimer = setTimeout(() => {
        this.initTimer = undefined;
        if (!this.initReceived) socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      }, options.initTimeoutMs);
    }
  }

  /** Open operations (subscriptions being decided included). */
  get size(): number {
    return this.operations.size;
  }

  /** One message from the client. Rejects only on a failure of a hook (the transport closes with 4500). */
  async message(data: string): Promise<void> {
    let message: Message;
    try {
      message = parseMessage(data);
    } catch {
      this.socket.close(CloseCode.BadRequest, 'Invalid message received');
      return;
    }
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (this.initReceived) {
          this.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
          return;
        }
        this.initReceived = true;
        if (this.initTimer) clearTimeout(this.initTimer);
        this.initTimer = undefined;
        const accepted = await this.hooks.init(this, message.payload ?? undefined);
        if (accepted === false) {
          this.socket.close(CloseCode.Forbidden, 'Forbidden');
          return;
        }
        this.acknowledged = true;
        this.socket.send(stringifyMessage(typeof accepted === 'object' ? { type: MessageType.ConnectionAck, payload: accepted } : { type: MessageType.ConnectionAck }));
        return;
      }
      case MessageType.Ping:
        this.socket.send(stringifyMessage(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
        return;
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        await this.subscribe(message.id, message.payload);
        return;
      case MessageType.Complete: {
        const operation = this.operations.get(message.id);
        this.operations.delete(message.id);
        operation?.cancel();
        return;
      }
      case MessageType.ConnectionAck:
      case MessageType.Next:
      case MessageType.Error:
        // Only servers send these (graphql-ws throws; the transport closes with 4500).
        throw new Error(`Unexpected message of type ${message.type} received`);
    }
  }

  private async subscribe(id: string, payload: SubscribePayload): Promise<void> {
    if (!this.acknowledged) {
      this.socket.close(CloseCode.Unauthorized, 'Unauthorized');
      return;
    }
    if (this.operations.has(id)) {
      this.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
      return;
    }
    this.operations.set(id, null);
    let outcome: SubscribeOutcome;
    try {
      outcome = await this.hooks.subscribe(this, id, payload);
    } catch (error) {
      this.operations.delete(id);
      throw error;
    }
    // Completed by the client (or the connection closed) while it was being decided.
    const wanted = this.operations.has(id);
    if ('operation' in outcome) {
      if (!wanted) {
        outcome.operation.cancel();
        return;
      }
      this.operations.set(id, outcome.operation);
      outcome.start();
      return;
    }
    this.operations.delete(id);
    if (!wanted) return;
    if ('errors' in outcome) {
      this.socket.send(stringifyMessage({ id, type: MessageType.Error, payload: outcome.errors }));
      return;
    }
    this.socket.send(stringifyMessage({ id, type: MessageType.Next, payload: outcome.result }));
    this.socket.send(stringifyMessage({ id, type: MessageType.Complete }));
  }

  /**
   * An operation ended on its own (its source completed, or an error ended it): the client is told
   * with `complete`, or `error` with `errors`. Nothing is sent for one the client completed or that
   * a closed connection cancelled.
   */
  finish(id: string, operation: Operation, errors?: readonly GraphQLFormattedError[]): void {
    if (this.operations.get(id) !== operation) return;
    this.operations.delete(id);
    this.socket.send(errors ? stringifyMessage({ id, type: MessageType.Error, payload: errors }) : stringifyMessage({ id, type: MessageType.Complete }));
  }

  /** The socket closed: cancels every operation, then tells the hooks. */
  closed(): void {
    if (this.initTimer) clearTimeout(this.initTimer);
    this.initTimer = undefined;
    const operations = [...this.operations.values()];
    this.operations.clear();
    for (const operation of operations) operation?.cancel();
    this.hooks.closed(this);
  }
}
