import { createRoute } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyButton } from '../components/copy-button';
import { Dialog } from '../components/dialog';
import { EmptyState, ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Checkbox, Field, SelectInput, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Pagination } from '../components/pagination';
import { RoleBadge, StatusBadge } from '../components/status-badge';
import { Cell, Table } from '../components/table';
import { RelativeTime } from '../components/time';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { useCursorPages } from '../hooks/use-cursor-pages';
import { useDebouncedValue } from '../hooks/use-debounced-value';
import { useIdentity, usePermissions } from '../hooks/use-session';
import type { Role } from '../lib/api/__generated__/graphql';
import { changeMemberRoleMutation, invitationsQuery, inviteMemberMutation, membersQuery, removeMemberMutation, resetMemberTwoFactorMutation, revokeInvitationMutation } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { fieldErrorFor } from '../lib/field-errors';
import { ROLES, roleChangeWarning, roleLabel } from '../lib/roles';
import { plural } from '../lib/format';
import { appLayoutRoute } from './app-layout';
import { EmailText } from '../components/email-text';

function InviteDialog({ onClose }: { onClose: () => void }) {
  const can = usePermissions();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const invite = useApiMutation(inviteMemberMutation, { invalidates: [queryKeys.members.all] });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    invite.mutate({ input: { email: email.trim(), role } });
  };
  const result = invite.data?.inviteMember;
  const link = result ? `${window.location.origin}/accept-invitation?token=${encodeURIComponent(result.token)}` : '';
  return (
    <Dialog
      open
      onClose={onClose}
      title="Invite a member"
      footer={
        result ? (
          <Button variant="primary" onClick={onClose}>Done</Button>
        ) : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button variant="primary" type="submit" form="invite-member" busy={invite.isPending}>Create invitation</Button>
          </>
        )
      }
    >
      {result ? (
        <div className="space-y-3">
          <Notice tone="success">
            Invitation for <strong>{result.invitation.email}</strong> as {roleLabel(result.invitation.role)} created. Orchestra sends no email: give them this link. It is shown only now.
          </Notice>
          <div className="flex items-center gap-2">
            <code className="min-w-0 flex-1 truncate rounded-md bg-slate-100 px-2 py-1.5 font-mono text-xs select-all" data-testid="invitation-link">{link}</code>
            <CopyButton text={link} />
          </div>
          <p className="text-xs text-slate-500">Expires <RelativeTime value={result.invitation.expiresAt} />.</p>
        </div>
      ) : (
        <form id="invite-member" onSubmit={submit} className="space-y-4">
          {invite.error && !fieldErrorFor(invite.error, 'email') && <ErrorNotice error={invite.error} />}
          <Field label="Email" error={fieldErrorFor(invite.error, 'email')}>{(p) => <TextInput {...p} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />}</Field>
          <Field label="Role">
            {(p) => (
              <SelectInput {...p} value={role} onChange={(e) => setRole(e.target.value as Role)}>
                {ROLES.filter((r) => r !== 'OWNER' || can.grantOwner).map((r) => <option key={r} value={r}>{roleLabel(r)}</option>)}
              </SelectInput>
            )}
          </Field>
        </form>
      )}
    </Dialog>
  );
}

function Invitations() {
  const [includeClosed, setIncludeClosed] = useState(false);
  const [inviting, setInviting] = useState(false);
  const [revoking, setRevoking] = useState<{ id: string; email: string }>();
  const invitations = useApiQuery(queryKeys.members.invitations({ includeClosed }), invitationsQuery, { first: 50, includeClosed });
  const revoke = useApiMutation(revokeInvitationMutation, { invalidates: [queryKeys.members.all], onSuccess: () => setRevoking(undefined) });
  return (
    <Card
      title="Invitations"
      padded={false}
      actions={
        <>
          <Checkbox label="Show closed" checked={includeClosed} onChange={(e) => setIncludeClosed(e.target.checked)} />
          <Button size="sm" variant="primary" onClick={() => setInviting(true)}>Invite member</Button>
        </>
      }
    >
      {invitations.isPending ? (
        <LoadingBlock />
      ) : invitations.error ? (
        <div className="p-4"><ErrorNotice error={invitations.error} /></div>
      ) : invitations.data.invitations.edges.length === 0 ? (
        <EmptyState title="No open invitations" />
      ) : (
        <Table label="Invitations" head={['Email', 'Role', 'Status', 'Invited by', 'Expires', '']}>
          {invitations.data.invitations.edges.map(({ node }) => (
            <tr key={node.id}>
              <Cell className="min-w-48"><EmailText value={node.email} /></Cell>
              <Cell layout="nowrap"><RoleBadge role={node.role} /></Cell>
              <Cell layout="nowrap"><StatusBadge status={node.status} /></Cell>
              <Cell className="min-w-48">{node.invitedBy ? <EmailText value={node.invitedBy.email} /> : '—'}</Cell>
              <Cell layout="nowrap"><RelativeTime value={node.expiresAt} /></Cell>
              <Cell layout="actions">
                {node.status === 'PENDING' && (
                  <Button size="sm" variant="danger" onClick={() => { revoke.reset(); setRevoking({ id: node.id, email: node.email }); }}>Revoke</Button>
                )}
              </Cell>
            </tr>
          ))}
        </Table>
      )}
      {inviting && <InviteDialog onClose={() => setInviting(false)} />}
      {revoking && (
        <ConfirmDialog title="Revoke this invitation?" confirmLabel={`Revoke the invitation for ${revoking.email}`} busy={revoke.isPending} error={revoke.error} onConfirm={() => revoke.mutate({ id: revoking.id })} onClose={() => setRevoking(undefined)}>
          <p>The link you gave {revoking.email} stops working at once. You can invite them again later.</p>
        </ConfirmDialog>
      )}
    </Card>
  );
}

function MembersPage() {
  const identity = useIdentity();
  const can = usePermissions();
  const [search, setSearch] = useState('');
  const searched = useDebouncedValue(search.trim());
  const pages = useCursorPages(searched);
  const [removing, setRemoving] = useState<{ id: string; email: string; apiKeys: number }>();
  const [resettingTwoFactor, setResettingTwoFactor] = useState<{ id: string; email: string }>();
  const [roleChange, setRoleChange] = useState<{ id: string; email: string; from: Role; to: Role; self: boolean }>();
  const [roleChanged, setRoleChanged] = useState<{ email: string; role: Role }>();
  // The role just chosen, shown in its row until the list fetched after the change arrives (the list
  // in the cache may be older than the change: the row must not go back to the old role meanwhile).
  const [roleChosen, setRoleChosen] = useState<{ id: string; role: Role }>();
  const members = useApiQuery(queryKeys.members.list({ search: searched, after: pages.after }), membersQuery, { first: 25, after: pages.after ?? null, withApiKeys: can.manageMembers, ...(searched ? { search: searched } : {}) }, { placeholderData: (p) => p });
  const changeRole = useApiMutation(changeMemberRoleMutation, { invalidates: [queryKeys.members.all, queryKeys.me] });
  const resetTwoFactor = useApiMutation(resetMemberTwoFactorMutation, { invalidates: [queryKeys.members.all], onSuccess: () => setResettingTwoFactor(undefined) });
  const remove = useApiMutation(removeMemberMutation, { invalidates: [queryKeys.members.all, queryKeys.apiKeys.all], onSuccess: () => setRemoving(undefined) });

  return (
    <>
      <PageHeader title="Members" description={`People in ${identity.organization.name} and their roles. Owners and admins manage members; only owners grant the owner role.`} />
      <div className="space-y-6">
        <Card padded={false} title="Members">
          <div className="border-b border-slate-100 p-4">
            <label htmlFor="member-search" className="sr-only">Search members</label>
            <TextInput id="member-search" type="search" placeholder="Search name or email…" value={search} onChange={(e) => setSearch(e.target.value)} className="max-w-sm" />
          </div>
          {roleChanged && <div className="p-4"><Notice tone="success">{roleChanged.email} is now {roleLabel(roleChanged.role).toLowerCase()}.</Notice></div>}
          {members.isPending ? (
            <LoadingBlock />
          ) : members.error ? (
            <div className="p-4"><ErrorNotice error={members.error} onRetry={() => void members.refetch()} /></div>
          ) : members.data.members.edges.length === 0 ? (
            <EmptyState title="No member matches" />
          ) : (
            <>
              <Table label="Members" head={['Name', 'Email', 'Role', 'Member since', '']}>
                {members.data.members.edges.map(({ node }) => {
                  const self = node.user.id === identity.user.id;
                  const mayEdit = can.manageMembers && (node.role !== 'OWNER' || can.grantOwner);
                  return (
                    <tr key={node.id}>
                      <Cell className="min-w-32 max-w-sm font-medium text-slate-900">{node.user.name}{self && <span className="ml-1 text-xs text-slate-400">(you)</span>}</Cell>
                      <Cell className="min-w-40">
                        <EmailText value={node.user.email} />
                        {node.user.twoFactorEnabled && <span className="ml-1.5 rounded bg-emerald-50 px-1.5 py-0.5 text-[11px] font-medium text-emerald-700" title="Signs in with a second factor">2FA</span>}
                      </Cell>
                      <Cell layout="nowrap">
                        {mayEdit ? (
                          <>
                            <label htmlFor={`role-${node.id}`} className="sr-only">Role of {node.user.email}</label>
                            <div className="w-32">
                              <SelectInput
                                id={`role-${node.id}`}
                                value={roleChange?.id === node.id ? roleChange.to : roleChosen?.id === node.id ? roleChosen.role : node.role}
                                disabled={changeRole.isPending}
                                onChange={(e) => {
                                  changeRole.reset();
                                  setRoleChanged(undefined);
                                  setRoleChange({ id: node.id, email: node.user.email, from: node.role, to: e.target.value as Role, self });
                                }}
                                className="py-1"
                              >
                                {ROLES.filter((r) => r !== 'OWNER' || can.grantOwner).map((r) => <option key={r} value={r}>{roleLabel(r)}</option>)}
                              </SelectInput>
                            </div>
                          </>
                        ) : (
                          <RoleBadge role={node.role} />
                        )}
                      </Cell>
                      <Cell layout="nowrap"><RelativeTime value={node.createdAt} /></Cell>
                      <Cell layout="actions">
                        {mayEdit && !self && node.user.twoFactorEnabled && (
                          <Button size="sm" className="mr-2" onClick={() => setResettingTwoFactor({ id: node.id, email: node.user.email })}>
                            Reset 2FA
                          </Button>
                        )}
                        {mayEdit && (
                          <Button size="sm" variant="danger" onClick={() => setRemoving({ id: node.id, email: node.user.email, apiKeys: node.activeApiKeysCreated ?? 0 })}>
                            Remove
                          </Button>
                        )}
                      </Cell>
                    </tr>
                  );
                })}
              </Table>
              <Pagination hasPrevious={pages.hasPrevious} hasNext={members.data.members.pageInfo.hasNextPage} onPrevious={pages.previous} onNext={() => pages.next(members.data.members.pageInfo.endCursor)} summary={plural(members.data.members.totalCount, 'member')} />
            </>
          )}
        </Card>
        {can.manageMembers && <Invitations />}
      </div>
      {roleChange && (
        <ConfirmDialog
          title={roleChange.self ? 'Change your own role?' : `Change the role of ${roleChange.email}?`}
          confirmLabel={`Make ${roleChange.self ? 'me' : roleChange.email} ${roleLabel(roleChange.to).toLowerCase()}`}
          variant={roleChangeWarning(roleChange) ? 'danger' : 'primary'}
          busy={changeRole.isPending}
          error={changeRole.error}
          onConfirm={() =>
            // The row shows the chosen role from the confirmation until the list fetched after the change arrives.
            changeRole.mutate(
              { id: roleChange.id, role: roleChange.to },
              {
                onSuccess: (data) => {
                  const chosen = { id: roleChange.id, role: data.changeMemberRole.role };
                  setRoleChosen(chosen);
                  setRoleChanged({ email: roleChange.email, role: chosen.role });
                  setRoleChange(undefined);
                  // A fetch started now holds the change; until it arrives the row keeps the chosen role.
                  void members.refetch().finally(() => setRoleChosen((current) => (current === chosen ? undefined : current)));
                },
              },
            )
          }
          onClose={() => setRoleChange(undefined)}
        >
          <p>
            {roleChange.self ? 'You go' : `${roleChange.email} goes`} from {roleLabel(roleChange.from).toLowerCase()} to <strong>{roleLabel(roleChange.to).toLowerCase()}</strong>.
          </p>
          {roleChangeWarning(roleChange) && <Notice tone="warning">{roleChangeWarning(roleChange)}</Notice>}
        </ConfirmDialog>
      )}
      {resettingTwoFactor && (
        <ConfirmDialog
          title={`Reset the two-factor sign-in of ${resettingTwoFactor.email}?`}
          confirmLabel={`Reset two-factor of ${resettingTwoFactor.email}`}
          variant="danger"
          busy={resetTwoFactor.isPending}
          error={resetTwoFactor.error}
          onConfirm={() => resetTwoFactor.mutate({ membershipId: resettingTwoFactor.id })}
          onClose={() => setResettingTwoFactor(undefined)}
        >
          <p>Their sessions end; they sign in with their password alone and set up a new authenticator. Do this only when you are sure it is them asking (a lost phone).</p>
        </ConfirmDialog>
      )}
      {removing && (
        <Dialog
          open
          onClose={() => setRemoving(undefined)}
          title="Remove this member?"
          footer={
            <>
              <Button onClick={() => setRemoving(undefined)}>Cancel</Button>
              <Button variant="danger" busy={remove.isPending} onClick={() => remove.mutate({ id: removing.id })}>Remove {removing.email}</Button>
            </>
          }
        >
          <p className="text-sm text-slate-600">{removing.email} loses access to this organization at once. Their account and other organizations are not touched.</p>
          <p className="mt-2 text-sm text-slate-600" data-testid="remove-member-api-keys">
            {removing.apiKeys === 0
              ? 'They created no active API keys here.'
              : `The ${removing.apiKeys === 1 ? 'API key' : `${removing.apiKeys} API keys`} they created here ${removing.apiKeys === 1 ? 'is' : 'are'} revoked with the membership: integrations using ${removing.apiKeys === 1 ? 'it' : 'them'} stop working. Create new keys first if they are still needed.`}
          </p>
          {remove.error && <ErrorNotice error={remove.error} className="mt-3" />}
        </Dialog>
      )}
    </>
  );
}

export const membersRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/members', component: MembersPage });
