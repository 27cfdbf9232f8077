import { AppError, authorize, type AccessRule, type Principal } from '@orchestra/lib/gateway';
import type { FeedSink } from './run-feeds';

/**
 * The subscription fields the gateway serves, each with its authorization, in one registry. Adding a
 * subscription is its SDL in schema.graphql plus one definition here (see gateway/README.md,
 * "Adding a subscription"): the server does the rest — parsing and validating, query limits, the
 * field's access rule (roles and scopes as they are NOW, checked again whenever the connection's
 * credential changes), per-subscriber delivery, shared execution and re-authorization.
 */
export interface SubscriptionField<Args = unknown, Event = unknown> {
  /** The field of `type Subscription` (schema.graphql). */
  name: string;
  /** Who may subscribe, as the subgraphs' @access: role for users, scopes for API keys. */
  access: AccessRule;
  /** Checks and converts the coerced arguments; throws BAD_USER_INPUT naming the argument. */
  parseArgs(raw: Record<string, unknown>): Args;
  /**
   * May `principal` watch what `args` name (a run of its organization...)? Throws NOT_FOUND /
   * FORBIDDEN. Runs at subscribe time and again whenever the connection authenticates anew.
   */
  authorizeResource(principal: Principal, args: Args): Promise<void>;
  /** Starts delivering events to `sink` (shared sources fan out in memory); returns detach. */
  attach(args: Args, sink: FeedSink<Event>, principal: Principal): () => void;
  /** Identifies one event, so subscribers with the same selection and scope share its execution. */
  eventKey(event: Event): string;
}

/** Entity links: a field of an event type resolved through the federated graph by a key the event carries. */
export interface EntityLink<Event = unknown> {
  /** Type and field in the subscription schema, e.g. RunEvent.run. */
  type: string;
  field: string;
  /** The Query field that fetches the entity by id, e.g. run(id:). */
  rootField: string;
  keyOf(event: Event): string | null;
}

export interface SubscriptionRegistry {
  fields: ReadonlyMap<string, SubscriptionField>;
  links: readonly EntityLink[];
}

export function createSubscriptionRegistry(fields: readonly SubscriptionField[], links: readonly EntityLink[]): SubscriptionRegistry {
  const map = new Map<string, SubscriptionField>();
  for (const field of fields) {
    if (map.has(field.name)) throw new Error(`subscription field ${field.name} is registered twice`);
    map.set(field.name, field);
  }
  return { fields: map, links };
}

/** The field-level checks every subscription passes, now and on every re-authentication. */
export function authorizeSubscriber(principal: Principal, field: SubscriptionField): void {
  if (principal.kind === 'anonymous') throw new AppError('UNAUTHENTICATED', 'sign in (connection_init { authorization }) to subscribe', { reason: 'SIGN_IN_REQUIRED' });
  if (principal.orgId === undefined) throw new AppError('FORBIDDEN', 'subscriptions need an organization: sign in to one first', { reason: 'NO_ORGANIZATION' });
  authorize(principal, field.access, `Subscription.${field.name}`);
}

/**
 * What a principal may see, for sharing one execution among subscribers: subgraphs decide visibility
 * by organization, kind, role and scopes (row-level security and @access), not by who the user is.
 */
export const principalScope = (principal: Principal): string =>
  `${principal.kind}|${principal.orgId ?? ''}|${principal.role ?? ''}|${[...principal.scopes].sort().join(',')}`;
