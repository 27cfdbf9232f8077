import { execute, type DocumentNode, type ExecutionResult, type GraphQLError, type GraphQLSchema } from 'graphql';
import { newRequestId, toAppError, toClientGraphQLError, type Logger } from '@orchestra/lib/gateway';
import type { FederatedObjects } from './federated-selection';
import type { SubscriberContext } from './live-subscription';

/**
 * Subscribers that share a field, document, operation, variables and principal scope see the same
 * result for an event. A group is executed once per event and its result serialized once to the JSON
 * of the `next` message's payload; every subscriber of the group sends those same characters.
 */
export interface ExecutionGroup {
  readonly key: string;
  readonly field: string;
  readonly document: DocumentNode;
  readonly variables: Record<string, unknown>;
  readonly operationName: string | null;
  /** principalScope() of its subscribers. */
  readonly scope: string;
  /** Subscribers holding the group. */
  refs: number;
}

export interface SharedResults {
  /** The group of `key`, made by `make` for its first subscriber. Give it back with release(). */
  acquire(key: string, make: () => Omit<ExecutionGroup, 'key' | 'refs'>): ExecutionGroup;
  release(group: ExecutionGroup): void;
  /**
   * The payload JSON of `event` (identified by `field.eventKey(event)`) for `group`: a string when it is
   * ready, a promise while entity fields resolve through the federated graph. `context` is asked only
   * when the event has not been executed for the group yet. A feed offers one event to all its
   * subscribers in a row: the key is made once per event then, not once per subscriber.
   */
  payload(group: ExecutionGroup, event: unknown, field: { eventKey(event: unknown): string }, context: () => SubscriberContext): string | Promise<string>;
  stats(): { groups: number; events: number };
}

export interface SharedResultsOptions {
  schema: GraphQLSchema;
  objects: FederatedObjects;
  log: Logger;
  /** Counts executions by field. */
  executed(field: string): void;
  /** Events whose payloads are kept (oldest first out). Default 5,000. */
  maxEvents?: number;
}

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as { then?: unknown } | null)?.then === 'function';

export function createSharedResults({ schema, objects, log, executed, maxEvents = 5_000 }: SharedResultsOptions): SharedResults {
  const groups = new Map<string, ExecutionGroup>();
  /** event key → group key → payload JSON (or its promise). */
  const payloads = new Map<string, Map<string, string | Promise<string>>>();
  /** The event asked for last, its key and payloads (a fan-out asks for the same event many times in a row). */
  let lastEvent: unknown;
  let lastPayloads: Map<string, string | Promise<string>> | undefined;

  const serialize = (result: ExecutionResult): string => {
    if (!result.errors || result.errors.length === 0) return JSON.stringify(result);
    // One request id for every subscriber of the group: one log line for the execution, not one per subscriber.
    const requestId = newRequestId();
    for (const e of result.errors) if (toAppError(e).code === 'INTERNAL') log.error('subscription event failed', { err: e.originalError ?? e, requestId });
    return JSON.stringify({ ...result, errors: result.errors.map((e: GraphQLError) => toClientGraphQLError(e.originalError ?? e, requestId, e.path)) });
  };

  const run = (group: ExecutionGroup, event: unknown, context: SubscriberContext): string | Promise<string> => {
    executed(group.field);
    const result = execute({
      schema,
      document: group.document,
      rootValue: event,
      contextValue: context,
      variableValues: group.variables,
      operationName: group.operationName,
      fieldResolver: objects.fieldResolver,
      typeResolver: objects.typeResolver,
    });
    return isPromise(result) ? result.then(serialize) : serialize(result);
  };

  return {
    acquire(key, make) {
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { key, refs: 0, ...make() }));
      group.refs += 1;
      return group;
    },

    release(group) {
      group.refs -= 1;
      if (group.refs <= 0 && groups.get(group.key) === group) groups.delete(group.key);
    },

    payload(group, event, field, context) {
      let byGroup: Map<string, string | Promise<string>> | undefined;
      // (Only inserting another event's key evicts, and that makes it the last one.)
      if (event === lastEvent && lastPayloads !== undefined) byGroup = lastPayloads;
      else {
        const key = field.eventKey(event);
        byGroup = payloads.get(key);
        if (!byGroup) {
          if (payloads.size >= maxEvents) payloads.delete(payloads.keys().next().value as string);
          payloads.set(key, (byGroup = new Map<string, string | Promise<string>>()));
        }
        lastEvent = event;
        lastPayloads = byGroup;
      }
      const known = byGroup.get(group.key);
      if (known !== undefined) return known;
      const made = run(group, event, context());
      byGroup.set(group.key, made);
      if (isPromise(made)) {
        const cache = byGroup;
        // Once resolved, later subscribers (a resume from memory) get the string itself.
        made.then(
          (json) => {
            if (cache.get(group.key) === made) cache.set(group.key, json);
          },
          () => undefined, // each subscriber awaiting it ends with the error
        );
      }
      return made;
    },

    stats: () => ({ groups: groups.size, events: payloads.size }),
  };
}
