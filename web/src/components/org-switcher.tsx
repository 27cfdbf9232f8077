import { useNavigate } from '@tanstack/react-router';
import { useRef, useState, type FormEvent } from 'react';
import { useServices } from '../hooks/services';
import { useApiQuery } from '../hooks/use-api';
import { useIdentity } from '../hooks/use-session';
import { createOrganizationMutation, meQuery } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { roleLabel } from '../lib/roles';
import { Button } from './button';
import { Dialog } from './dialog';
import { ErrorNotice } from './feedback';
import { Field, TextInput } from './form';

const NEW_ORGANIZATION = '__new__';

/**
 * Moves the session to another organization the user belongs to (every tab follows). A choice made
 * with the mouse switches at once; arrow keys and type-ahead only point at one until Enter, so moving
 * through the list never switches by accident.
 */
export function OrgSwitcher() {
  const services = useServices();
  const identity = useIdentity();
  const navigate = useNavigate();
  const me = useApiQuery(queryKeys.me, meQuery, {});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  /** An organization chosen with the keyboard but not switched to yet (Enter switches). */
  const [pending, setPending] = useState<string>();
  const changedByKey = useRef(false);
  const memberships = me.data?.me.memberships ?? [{ id: 'current', role: identity.role, organization: identity.organization }];

  const switchTo = async (organizationId: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await services.switchOrganization(organizationId);
      // Ids in the current URL belong to the old organization.
      await navigate({ to: '/' });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const choose = (value: string) => {
    setPending(undefined);
    if (value === identity.organization.id) return;
    if (value === NEW_ORGANIZATION) setCreating(true);
    else void switchTo(value);
  };

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { createOrganization } = await services.api.request(createOrganizationMutation, { input: { name } });
      setCreating(false);
      setName('');
      await switchTo(createOrganization.id);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };

  return (
    <div className="min-w-0">
      <label htmlFor="org-switcher" className="sr-only">
        Organization
      </label>
      <select
        id="org-switcher"
        value={pending ?? identity.organization.id}
        disabled={busy}
        aria-describedby={pending !== undefined ? 'org-switcher-hint' : undefined}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && pending !== undefined) {
            event.preventDefault();
            choose(pending);
          } else if (event.key === 'Escape' && pending !== undefined) {
            event.preventDefault();
            setPending(undefined);
          } else if (event.key !== 'Tab' && event.key !== 'Enter') {
            // Arrow keys and type-ahead change a closed <select> at once: that only points at an
            // organization; Enter switches to it.
            // The change it causes fires in this same task; a key that opens the list changes nothing.
            changedByKey.current = true;
            setTimeout(() => {
              changedByKey.current = false;
            });
          }
        }}
        onChange={(event) => {
          const value = event.target.value;
          const byKey = changedByKey.current;
          changedByKey.current = false;
          if (byKey) setPending(value === identity.organization.id ? undefined : value);
          else choose(value);
        }}
        onBlur={() => {
          changedByKey.current = false;
          setPending(undefined);
        }}
        className="w-full max-w-60 truncate rounded-lg border-0 bg-white py-1.5 pl-3 pr-8 text-sm font-medium text-slate-800 shadow-xs ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-indigo-500"
      >
        {memberships.map((m) => (
          <option key={m.organization.id} value={m.organization.id}>
            {m.organization.name} ({roleLabel(m.role)})
          </option>
        ))}
        <option value={NEW_ORGANIZATION}>+ New organization…</option>
      </select>
      {pending !== undefined && (
        <p id="org-switcher-hint" role="status" className="mt-1 text-xs text-slate-500">
          Press Enter to {pending === NEW_ORGANIZATION ? 'create a new organization' : `switch to ${memberships.find((m) => m.organization.id === pending)?.organization.name ?? 'it'}`}, Escape to stay.
        </p>
      )}
      {error !== undefined && !creating && <ErrorNotice error={error} className="mt-2" />}
      <Dialog
        open={creating}
        onClose={() => setCreating(false)}
        title="New organization"
        footer={
          <>
            <Button onClick={() => setCreating(false)}>Cancel</Button>
            <Button variant="primary" type="submit" form="new-organization" busy={busy}>
              Create and switch
            </Button>
          </>
        }
      >
        <form id="new-organization" onSubmit={(e) => void create(e)} className="space-y-3">
          <p className="text-sm text-slate-500">You become its owner; your other organizations stay as they are.</p>
          {error !== undefined && <ErrorNotice error={error} />}
          <Field label="Name">{(p) => <TextInput {...p} required value={name} onChange={(e) => setName(e.target.value)} autoFocus />}</Field>
        </form>
      </Dialog>
    </div>
  );
}
