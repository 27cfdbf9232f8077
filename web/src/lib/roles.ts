import type { Role } from './api/session';

/** Each role can do everything the roles below it can (identity's schema says so). */
const RANK: Record<Role, number> = { VIEWER: 0, OPERATOR: 1, ADMIN: 2, OWNER: 3 };

export const ROLES: readonly Role[] = ['OWNER', 'ADMIN', 'OPERATOR', 'VIEWER'];

export const atLeast = (role: Role | undefined, minimum: Role): boolean => role !== undefined && RANK[role] >= RANK[minimum];

/**
 * What the UI offers per role, mirroring the API's @access rules. The UI hides what a role cannot do;
 * the API still enforces it (a hidden button is not the security).
 */
export const permissions = (role: Role | undefined) => ({
  manageWorkflows: atLeast(role, 'ADMIN'),
  operateRuns: atLeast(role, 'OPERATOR'),
  replayDeadLetters: atLeast(role, 'OPERATOR'),
  manageApps: atLeast(role, 'ADMIN'),
  pauseApps: atLeast(role, 'OPERATOR'),
  manageMembers: atLeast(role, 'ADMIN'),
  manageApiKeys: atLeast(role, 'ADMIN'),
  readAudit: atLeast(role, 'ADMIN'),
  manageSecrets: atLeast(role, 'ADMIN'),
  manageWebhooks: atLeast(role, 'ADMIN'),
  manageSso: atLeast(role, 'ADMIN'),
  manageTriggers: atLeast(role, 'ADMIN'),
  manageLlmProviders: atLeast(role, 'ADMIN'),
  manageSchedules: atLeast(role, 'OPERATOR'),
  manageRateLimits: atLeast(role, 'ADMIN'),
  /** The limits platform operators set for the organization (read-only in the app). */
  viewOrganizationLimits: atLeast(role, 'ADMIN'),
  /** Only owners grant or take away the owner role. */
  grantOwner: atLeast(role, 'OWNER'),
});

export type Permissions = ReturnType<typeof permissions>;

export const roleLabel = (role: Role): string => role.charAt(0) + role.slice(1).toLowerCase();

/** Whether going from one role to the other takes permissions away. */
export const isDemotion = (from: Role, to: Role): boolean => RANK[to] < RANK[from];

/** What to tell someone about to change a member's role, beyond the change itself (their own demotion above all). */
export function roleChangeWarning(change: { from: Role; to: Role; self: boolean }): string | undefined {
  if (!isDemotion(change.from, change.to)) return undefined;
  if (change.self) {
    const losesMembers = atLeast(change.from, 'ADMIN') && !atLeast(change.to, 'ADMIN');
    return `This is your own role: you lose what ${roleLabel(change.from).toLowerCase()}s may do at once${losesMembers ? ', including managing members, so you cannot undo this yourself' : ''}.`;
  }
  return `They lose what ${roleLabel(change.from).toLowerCase()}s may do at once.`;
}
