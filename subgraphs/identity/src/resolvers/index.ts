import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { AppError, badInput, isUuid, type RequestContext, type Role } from '@orchestra/lib';
import { apiKeyStatus, createApiKey, revokeApiKey, type CreateApiKeyInput } from '../api-keys/api-keys';
import { API_KEY_SCOPES } from '../api-keys/scopes';
import { changeEmail, resendVerificationEmail, verifyEmail, type ChangeEmailInput } from '../auth/email-verification';
import { completeTwoFactorSignIn, type CompleteTwoFactorInput } from '../auth/two-factor-sign-in';
import { confirmTwoFactorEnrollment, disableTwoFactor, resetMemberTwoFactorByAdmin, setTwoFactorRequired, startTwoFactorEnrollment } from '../auth/two-factor';
import { requestPasswordReset, resetPassword, type ResetPasswordInput } from '../auth/forgot-password';
import { logout, logoutEverywhere, refresh, switchOrganization } from '../auth/sessions';
import { changePassword, login, type ChangePasswordInput, type LoginInput } from '../auth/sign-in';
import { inTenant, signedInUser, type IdentityDeps } from '../deps';
import { acceptInvitation, addMember, invitationStatus, inviteMember, revokeInvitation, type AcceptInvitationInput } from '../members/invitations';
import { callerRole, changeMemberRole, removeMember } from '../members/members';
import { createOrganization, signUp, updateOrganization, updateProfile, type SignUpInput } from '../members/organizations';
import { connectionOf, decodeCursor, pageSize } from '../pagination';
import { countApiKeys, findApiKey, listApiKeys, type ApiKeyRow } from '../store/api-keys';
import { countInvitations, listInvitations, type InvitationRow } from '../store/invitations';
import { countMembers, findMembershipById, listMembers, listMembershipsOfUser, type MembershipRow } from '../store/memberships';
import { findOrganization, type OrganizationRow } from '../store/organizations';
import { findPendingEmailChange } from '../store/email-verifications';
import { findRequireTwoFactor, isTwoFactorEnabled } from '../store/two-factor';
import { countOrganizationUsers, findUser, listOrganizationUsers, type UserRow } from '../store/users';
import { configureSso, deleteSsoConnection, getSsoConnection, testSsoConnection, type ConfigureSsoInput } from '../sso/connections';
import { completeSsoSignIn, startSsoSignIn, type CompleteSsoSignInInput, type StartSsoSignInInput } from '../sso/sign-in';
import type { Loaders } from './loaders';

/** The GraphQL context of identity's resolvers. */
export interface IdentityContext extends RequestContext {
  loaders: Loaders;
}

type Args = Record<string, unknown>;
type Resolver<P = unknown, A = Args> = (parent: P, args: A, ctx: IdentityContext) => unknown;

const MAX_SEARCH_LENGTH = 200;

function searchOf(search: unknown): string | undefined {
  if (typeof search !== 'string' || search.trim() === '') return undefined;
  if (search.length > MAX_SEARCH_LENGTH) throw badInput('search', `search is longer than ${MAX_SEARCH_LENGTH} characters`, 'TOO_LONG');
  return search;
}

const toIso = (value: unknown): string => {
  const date = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new GraphQLError(`DateTime cannot represent ${String(value)}`);
  return date.toISOString();
};

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const parseDateTime = (value: unknown): Date => {
  const date = typeof value === 'string' && ISO_8601.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime must be an ISO 8601 date and time with a zone, like 2026-11-22T10:15:30Z (got ${JSON.stringify(value)})`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return date;
};

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant, as an ISO 8601 string in UTC.',
  serialize: toIso,
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

/** The organization requires a second factor and the user has none. */
async function twoFactorEnrollmentRequired(deps: IdentityDeps, userId: string, orgId: string): Promise<boolean> {
  return (await findRequireTwoFactor(deps.pool, orgId)) && !(await isTwoFactorEnabled(deps.pool, userId));
}

/** Builds identity's resolver map around its dependencies. */
export function createResolvers(deps: IdentityDeps) {
  const Query: Record<string, Resolver> = {
    me: (_p, _a, { principal }) => {
      const { userId, orgId } = signedInUser(principal);
      return inTenant(deps, principal, async (tx) => {
        const role = await callerRole(tx, orgId, userId);
        const user = await findUser(tx, userId);
        const organization = await findOrganization(tx, orgId);
        if (!user || !organization) throw new AppError('NOT_FOUND', 'your account or organization no longer exists', { reason: 'USER_NOT_FOUND' });
        const memberships = await listMembershipsOfUser(tx, userId);
        return { user, organization, role, memberships: memberships.map((m) => ({ ...m, user })) };
      });
    },

    organization: async (_p, _a, { principal }) => {
      const { orgId } = signedInUser(principal);
      const organization = await inTenant(deps, principal, (tx) => findOrganization(tx, orgId));
      if (!organization) throw new AppError('NOT_FOUND', `organization ${orgId} not found`, { reason: 'ORGANIZATION_NOT_FOUND' });
      return organization;
    },

    members: (_p, args, { principal }) => {
      const { orgId } = signedInUser(principal);
      const size = pageSize(args['first'] as number | undefined);
      const [afterEmail] = decodeCursor(args['after'] as string | undefined, 1) ?? [];
      const search = searchOf(args['search']);
      return inTenant(deps, principal, async (tx) => {
        const rows = await listMembers(tx, { orgId, search, afterEmail, limit: size + 1 });
        const total = await countMembers(tx, orgId, search);
        return connectionOf(rows, size, total, (m) => [m.user.email], afterEmail !== undefined);
      });
    },

    users: (_p, args, { principal }) => {
      const { orgId } = signedInUser(principal);
      const size = pageSize(args['first'] as number | undefined);
      const [afterEmail] = decodeCursor(args['after'] as string | undefined, 1) ?? [];
      const search = searchOf(args['search']);
      return inTenant(deps, principal, async (tx) => {
        const rows = await listOrganizationUsers(tx, { orgId, search, afterEmail, limit: size + 1 });
        const total = await countOrganizationUsers(tx, orgId, search);
        return connectionOf(rows, size, total, (u) => [u.email], afterEmail !== undefined);
      });
    },

    invitations: (_p, args, { principal }) => {
      const { orgId } = signedInUser(principal);
      const size = pageSize(args['first'] as number | undefined);
      const [beforeId] = decodeCursor(args['after'] as string | undefined, 1, isUuid) ?? [];
      const includeClosed = args['includeClosed'] === true;
      return inTenant(deps, principal, async (tx) => {
        const rows = await listInvitations(tx, { orgId, includeClosed, beforeId, limit: size + 1 });
        const total = await countInvitations(tx, orgId, includeClosed);
        return connectionOf(rows, size, total, (i) => [i.id], beforeId !== undefined);
      });
    },

    apiKeys: (_p, args, { principal }) => {
      const { orgId } = signedInUser(principal);
      const size = pageSize(args['first'] as number | undefined);
      const after = decodeCursor(args['after'] as string | undefined, 2, (part, i) => (i === 0 ? /^\d{1,20}$/.test(part) : /^[A-Za-z0-9]{12}$/.test(part)));
      const includeRevoked = args['includeRevoked'] === true;
      return inTenant(deps, principal, async (tx) => {
        const before = after ? { createdAtMicros: after[0]!, id: after[1]! } : undefined;
        const rows = await listApiKeys(tx, { orgId, includeRevoked, before, limit: size + 1 });
        const total = await countApiKeys(tx, orgId, includeRevoked);
        return connectionOf(rows, size, total, (k) => [k.createdAtMicros, k.id], before !== undefined);
      });
    },

    apiKeyScopes: () => API_KEY_SCOPES,

    ssoConnection: (_p, _a, { principal }) => getSsoConnection(deps, principal),
    testSsoConnection: (_p, args, { principal }) => testSsoConnection(deps, principal, args['issuer'] as string),

    currentApiKey: async (_p, _a, { principal }) => {
      if (principal.kind !== 'apiKey' || principal.apiKeyId === undefined) return null;
      const id = principal.apiKeyId;
      return (await inTenant(deps, principal, (tx) => findApiKey(tx, id))) ?? null;
    },
  };

  const input = <T>(args: Args): T => args['input'] as T;

  const Mutation: Record<string, Resolver> = {
    signUp: (_p, args, { principal }) => signUp(deps, principal, input<SignUpInput>(args)),
    login: (_p, args, { principal }) => login(deps, principal, input<LoginInput>(args)),
    refreshToken: (_p, args, { principal }) => refresh(deps, principal, args['refreshToken'] as string),
    logout: (_p, args, { principal }) => logout(deps, principal, args['refreshToken'] as string),
    logoutEverywhere: (_p, _a, { principal }) => logoutEverywhere(deps, principal),
    switchOrganization: (_p, args, { principal }) =>
      switchOrganization(deps, principal, args['organizationId'] as string, args['refreshToken'] as string | null | undefined),
    acceptInvitation: (_p, args, { principal }) => acceptInvitation(deps, principal, input<AcceptInvitationInput>(args)),
    createOrganization: (_p, args, { principal }) => createOrganization(deps, principal, input<{ name: string }>(args)),
    updateOrganization: (_p, args, { principal }) => updateOrganization(deps, principal, input<{ name: string }>(args)),
    updateProfile: (_p, args, { principal }) => updateProfile(deps, principal, input<{ name: string }>(args)),
    verifyEmail: (_p, args, { principal }) => verifyEmail(deps, principal, args['token'] as string),
    resendVerificationEmail: (_p, _a, { principal }) => resendVerificationEmail(deps, principal),
    changeEmail: (_p, args, { principal }) => changeEmail(deps, principal, input<ChangeEmailInput>(args)),
    completeTwoFactorSignIn: (_p, args, { principal }) => completeTwoFactorSignIn(deps, principal, input<CompleteTwoFactorInput>(args)),
    startTwoFactorEnrollment: (_p, _a, { principal }) => startTwoFactorEnrollment(deps, principal),
    confirmTwoFactorEnrollment: (_p, args, { principal }) => confirmTwoFactorEnrollment(deps, principal, args['code'] as string),
    disableTwoFactor: (_p, args, { principal }) => disableTwoFactor(deps, principal, args['currentPassword'] as string),
    resetMemberTwoFactor: async (_p, args, { principal }) => {
      const { membershipId, orgId } = await resetMemberTwoFactorByAdmin(deps, principal, args['membershipId'] as string);
      const membership = await inTenant(deps, principal, (tx) => findMembershipById(tx, orgId, membershipId));
      if (!membership) throw new AppError('NOT_FOUND', `membership ${membershipId} not found`, { reason: 'NOT_FOUND' });
      return membership;
    },
    setTwoFactorRequired: async (_p, args, { principal }) => {
      await setTwoFactorRequired(deps, principal, args['required']);
      const { orgId } = signedInUser(principal);
      return inTenant(deps, principal, (tx) => findOrganization(tx, orgId));
    },
    changePassword: (_p, args, { principal }) => changePassword(deps, principal, input<ChangePasswordInput>(args)),
    requestPasswordReset: (_p, args, { principal }) => requestPasswordReset(deps, principal, args['email'] as string),
    resetPassword: (_p, args, { principal }) => resetPassword(deps, principal, input<ResetPasswordInput>(args)),
    inviteMember: (_p, args, { principal }) => inviteMember(deps, principal, input<{ email: string; role: Role }>(args)),
    revokeInvitation: (_p, args, { principal }) => revokeInvitation(deps, principal, args['id'] as string),
    addMember: (_p, args, { principal }) => addMember(deps, principal, input<{ email: string; role: Role }>(args)),
    changeMemberRole: (_p, args, { principal }) => changeMemberRole(deps, principal, args['id'] as string, args['role'] as Role),
    removeMember: (_p, args, { principal }) => removeMember(deps, principal, args['id'] as string),
    createApiKey: (_p, args, { principal }) => createApiKey(deps, principal, input<CreateApiKeyInput>(args)),
    revokeApiKey: (_p, args, { principal }) => revokeApiKey(deps, principal, args['id'] as string),
    configureSso: (_p, args, { principal }) => configureSso(deps, principal, input<ConfigureSsoInput>(args)),
    deleteSsoConnection: (_p, _a, { principal }) => deleteSsoConnection(deps, principal),
    startSsoSignIn: (_p, args, { principal }) => startSsoSignIn(deps, principal, input<StartSsoSignInInput>(args)),
    completeSsoSignIn: (_p, args, { principal }) => completeSsoSignIn(deps, principal, input<CompleteSsoSignInInput>(args)),
  };

  type MembershipParent = MembershipRow & { user?: unknown; organization?: OrganizationRow };

  return {
    DateTime,
    // GraphQL spells roles in capitals; everywhere else (tokens, principals, rows) they are lower-case.
    Role: { OWNER: 'owner', ADMIN: 'admin', OPERATOR: 'operator', VIEWER: 'viewer' },
    Query,
    Mutation,
    User: {
      __resolveReference: (ref: { id: string }, ctx: IdentityContext) => ctx.loaders.user(ref.id),
      twoFactorEnabled: (u: UserRow) => isTwoFactorEnabled(deps.pool, u.id),
      // Only the account itself sees where it is moving.
      pendingEmail: async (u: UserRow, _a: Args, ctx: IdentityContext) => (u.id === ctx.principal.userId ? ((await findPendingEmailChange(deps.pool, u.id)) ?? null) : null),
    },
    Organization: {
      __resolveReference: (ref: { id: string }, ctx: IdentityContext) => ctx.loaders.organization(ref.id),
      requireTwoFactor: (o: OrganizationRow, _a: Args, ctx: IdentityContext) => (o.id === ctx.principal.orgId ? findRequireTwoFactor(deps.pool, o.id) : null),
    },
    Viewer: {
      twoFactorEnrollmentRequired: (v: { user: UserRow; organization: OrganizationRow }) => twoFactorEnrollmentRequired(deps, v.user.id, v.organization.id),
    },
    AuthPayload: {
      twoFactorEnrollmentRequired: (p: { user: UserRow; organization: OrganizationRow }) => twoFactorEnrollmentRequired(deps, p.user.id, p.organization.id),
    },
    Membership: {
      user: (m: MembershipParent, _a: Args, ctx: IdentityContext) => m.user ?? ctx.loaders.user(m.userId),
      organization: (m: MembershipParent, _a: Args, ctx: IdentityContext) => m.organization ?? ctx.loaders.organization(m.orgId),
      // Counted in the caller's organization only: a membership of another org (me.memberships) says 0.
      activeApiKeysCreated: async (m: MembershipParent, _a: Args, ctx: IdentityContext) =>
        m.orgId === ctx.principal.orgId ? ((await ctx.loaders.activeApiKeysCreated(m.userId)) ?? 0) : 0,
    },
    Invitation: {
      status: (i: InvitationRow) => invitationStatus(i),
      invitedBy: (i: InvitationRow, _a: Args, ctx: IdentityContext) => (i.invitedBy === null ? null : ctx.loaders.user(i.invitedBy)),
    },
    ApiKey: {
      status: (k: ApiKeyRow) => apiKeyStatus(k),
      organization: (k: ApiKeyRow, _a: Args, ctx: IdentityContext) => ctx.loaders.organization(k.orgId),
      createdBy: (k: ApiKeyRow, _a: Args, ctx: IdentityContext) => (k.createdBy === null ? null : ctx.loaders.user(k.createdBy)),
    },
  };
}
