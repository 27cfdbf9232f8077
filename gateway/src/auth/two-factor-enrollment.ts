import { getNamedType, OperationTypeNode, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { AppError, type Principal } from '@orchestra/lib/gateway';

/**
 * An organization that requires two-factor sign-in (issue 13): a member without a second factor holds
 * an access token identity marked `tfa: 'required'` (the principal's twoFactorEnrollmentRequired). Such
 * a token reaches only what enrolment needs: who am I, enrol, sign out, move to another organization.
 * Everything else — any field of another subgraph (User.runs, User.activity), any organization data,
 * subscriptions, artifact downloads, the usage export — is refused with FORBIDDEN /
 * TWO_FACTOR_ENROLLMENT_REQUIRED.
 *
 * Why here: every request with a user's token passes the gateway (subgraphs accept only principals the
 * gateway signed), and the mark is in the token identity signed, so no client can leave it out; identity
 * raises the user's token version whenever the answer changes (the org turns the requirement on or off,
 * the user enrols or turns two-factor off), so a token issued before the change stops working and the
 * client refreshes into one that carries the new answer.
 *
 * The list is of field coordinates, checked over the whole document (fragments too), so a field another
 * subgraph adds to an allowed type later stays refused until it is listed here.
 */
const ALLOWED_FIELDS: ReadonlySet<string> = new Set([
  // Who am I, and the enrolment page.
  'Query.me',
  'Viewer.user',
  'Viewer.organization',
  'Viewer.role',
  'Viewer.memberships',
  'Viewer.twoFactorEnrollmentRequired',
  'User.id',
  'User.email',
  'User.name',
  'User.emailVerified',
  'User.pendingEmail',
  'User.twoFactorEnabled',
  'User.createdAt',
  'Organization.id',
  'Organization.name',
  'Organization.requireTwoFactor',
  'Membership.id',
  'Membership.role',
  'Membership.organization',
  'Membership.user',
  'Membership.createdAt',
  // Enrolment.
  'Mutation.startTwoFactorEnrollment',
  'TwoFactorEnrollment.secret',
  'TwoFactorEnrollment.otpauthUrl',
  'Mutation.confirmTwoFactorEnrollment',
  'TwoFactorRecoveryCodes.recoveryCodes',
  // Sign out, tokens, another organization (its own requirement applies there).
  'Mutation.logout',
  'Mutation.logoutEverywhere',
  'Mutation.refreshToken',
  'Mutation.switchOrganization',
  'Mutation.resendVerificationEmail',
  'Mutation.verifyEmail',
  'AuthPayload.accessToken',
  'AuthPayload.accessTokenExpiresAt',
  'AuthPayload.refreshToken',
  'AuthPayload.refreshTokenExpiresAt',
  'AuthPayload.tokenType',
  'AuthPayload.user',
  'AuthPayload.organization',
  'AuthPayload.role',
  'AuthPayload.twoFactorEnrollmentRequired',
]);

export const TWO_FACTOR_ENROLLMENT_REQUIRED = 'TWO_FACTOR_ENROLLMENT_REQUIRED';

const refusal = (what: string): AppError =>
  new AppError('FORBIDDEN', `your organization requires two-factor sign-in: set it up first (startTwoFactorEnrollment, then confirmTwoFactorEnrollment) to use ${what}`, {
    reason: TWO_FACTOR_ENROLLMENT_REQUIRED,
  });

/** Throws FORBIDDEN / TWO_FACTOR_ENROLLMENT_REQUIRED for a principal restricted to enrolment (routes that are never part of it). */
export function assertNotRestrictedToEnrollment(principal: Principal, what: string): void {
  if (principal.twoFactorEnrollmentRequired === true) throw refusal(what);
}

/**
 * The refusal for an operation of a principal restricted to enrolment, or undefined when every field it
 * selects is allowed. Fields the schema does not know are left to validation (which refuses them);
 * introspection (`__schema`, `__type`, `__typename`) is allowed.
 */
export function checkEnrollmentOperation(apiSchema: GraphQLSchema, document: DocumentNode | undefined): AppError | undefined {
  if (document === undefined) return refusal('a request without a query document');
  let refused: string | undefined;
  const typeInfo = new TypeInfo(apiSchema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition(node) {
        if (node.operation === OperationTypeNode.SUBSCRIPTION) refused ??= 'subscriptions';
      },
      Field(node) {
        if (refused !== undefined || node.name.value.startsWith('__')) return;
        const parent = typeInfo.getParentType();
        if (!parent || typeInfo.getFieldDef() === null) return;
        const parentName = getNamedType(parent).name;
        if (parentName.startsWith('__')) return;
        const coordinate = `${parentName}.${node.name.value}`;
        if (!ALLOWED_FIELDS.has(coordinate)) refused = coordinate;
      },
    }),
  );
  return refused === undefined ? undefined : refusal(refused);
}
