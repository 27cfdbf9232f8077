import { buildSchema, parse } from 'graphql';
import type { Principal } from '@orchestra/lib/gateway';
import { assertNotRestrictedToEnrollment, checkEnrollmentOperation } from './two-factor-enrollment';

/** The part of the API schema that matters here: identity's types, and fields other subgraphs add to them. */
const schema = buildSchema(`
  type Query { me: Viewer! organization: Organization! members: Int! runs: [Run!]! }
  type Mutation { startTwoFactorEnrollment: TwoFactorEnrollment! confirmTwoFactorEnrollment(code: String!): TwoFactorRecoveryCodes! logout(refreshToken: String!): Boolean! createApiKey(name: String!): String! }
  type Subscription { notificationAdded: String! }
  type Viewer { user: User! organization: Organization! role: String! memberships: [Membership!]! twoFactorEnrollmentRequired: Boolean! }
  type User { id: ID! email: String! twoFactorEnabled: Boolean! runs: [Run!]! activity: [String!]! }
  type Organization { id: ID! name: String! requireTwoFactor: Boolean usage: Int! }
  type Membership { id: ID! role: String! organization: Organization! activeApiKeysCreated: Int! }
  type Run { id: ID! }
  type TwoFactorEnrollment { secret: String! otpauthUrl: String! }
  type TwoFactorRecoveryCodes { recoveryCodes: [String!]! }
`);

const check = (query: string) => checkEnrollmentOperation(schema, parse(query));

describe('a token restricted to two-factor enrolment', () => {
  it('reaches me, enrolment and sign-out, with introspection fields', () => {
    expect(check('{ __typename me { __typename twoFactorEnrollmentRequired user { id email twoFactorEnabled } organization { name requireTwoFactor } memberships { role organization { id } } } }')).toBeUndefined();
    expect(check('mutation { startTwoFactorEnrollment { secret otpauthUrl } }')).toBeUndefined();
    expect(check('mutation($c: String!) { confirmTwoFactorEnrollment(code: $c) { recoveryCodes } }')).toBeUndefined();
    expect(check('mutation { logout(refreshToken: "x") }')).toBeUndefined();
    expect(check('{ __schema { types { name } } }')).toBeUndefined();
  });

  it('is refused anything else, however it is written, naming the field', () => {
    const refusals = [
      ['{ members }', 'Query.members'],
      ['{ organization { name } }', 'Query.organization'],
      ['{ me { role } runs { id } }', 'Query.runs'],
      ['{ me { user { runs { id } } } }', 'User.runs'],
      ['{ me { ...V } } fragment V on Viewer { organization { usage } }', 'Organization.usage'],
      ['query { me { memberships { ... on Membership { activeApiKeysCreated } } } }', 'Membership.activeApiKeysCreated'],
      ['{ a: me { user { activity } } }', 'User.activity'],
      ['mutation { createApiKey(name: "k") }', 'Mutation.createApiKey'],
      ['subscription { notificationAdded }', 'subscriptions'],
    ] as const;
    for (const [query, named] of refusals) {
      const error = check(query);
      expect([query, error?.code, error?.reason]).toEqual([query, 'FORBIDDEN', 'TWO_FACTOR_ENROLLMENT_REQUIRED']);
      expect(error!.message).toContain(named);
    }
    expect(checkEnrollmentOperation(schema, undefined)).toMatchObject({ code: 'FORBIDDEN', reason: 'TWO_FACTOR_ENROLLMENT_REQUIRED' });
  });

  it('routes outside GraphQL refuse it; an unrestricted principal passes', () => {
    const base: Principal = { kind: 'user', id: 'u', userId: 'u', orgId: 'o', role: 'admin', scopes: [], requestId: 'r' };
    expect(() => assertNotRestrictedToEnrollment({ ...base, twoFactorEnrollmentRequired: true }, 'artifact downloads')).toThrow(/requires two-factor sign-in.*artifact downloads/);
    expect(() => assertNotRestrictedToEnrollment(base, 'artifact downloads')).not.toThrow();
  });
});
