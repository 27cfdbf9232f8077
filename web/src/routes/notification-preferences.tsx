import { createRoute } from '@tanstack/react-router';
import { useState } from 'react';
import { Button } from '../components/button';
import { Card } from '../components/card';
import { ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Checkbox, Field, SelectInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { Cell, Table } from '../components/table';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import type { EmailMode, NotificationPreferencesQuery } from '../lib/api/__generated__/graphql';
import { notificationPreferencesQuery, updateNotificationPreferencesMutation } from '../lib/api/operations/notifications';
import { queryKeys } from '../lib/api/query-keys';
import { appLayoutRoute } from './app-layout';

type Preferences = NotificationPreferencesQuery['notificationPreferences'];

const EMAIL_MODES: Array<{ value: EmailMode; label: string }> = [
  { value: 'EACH', label: 'Each event as it happens' },
  { value: 'DIGEST', label: 'A digest of what happened' },
  { value: 'OFF', label: 'None (required events still come)' },
];

/** One user's choices per event and channel (issue 13); events the organization requires stay on. */
/** `saved` lives in the page: the form starts afresh from what the API answers after a save. */
function PreferencesForm({ initial, saved, setSaved }: { initial: Preferences; saved: boolean; setSaved: (saved: boolean) => void }) {
  const [draft, setDraft] = useState(initial);
  const save = useApiMutation(updateNotificationPreferencesMutation, { invalidates: [queryKeys.notifications.preferences], onSuccess: () => setSaved(true) });
  const change = (type: string, channel: 'inApp' | 'email', on: boolean) => {
    setSaved(false);
    setDraft((d) => ({ ...d, events: d.events.map((e) => (e.type === type ? { ...e, [channel]: on } : e)) }));
  };
  const changed = draft.events.filter((e) => {
    const before = initial.events.find((i) => i.type === e.type);
    return before && (before.inApp !== e.inApp || before.email !== e.email);
  });
  const dirty = changed.length > 0 || draft.emailMode !== initial.emailMode;
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        save.mutate({ input: { emailMode: draft.emailMode, events: changed.map(({ type, inApp, email }) => ({ type, inApp, email })) } });
      }}
      className="space-y-4"
    >
      {save.error && <ErrorNotice error={save.error} title="Your settings were not saved" />}
      {saved && !dirty && <Notice tone="success">Saved.</Notice>}
      <Card title="E-mail">
        <Field label="How e-mail comes" hint="A digest gathers a burst of events into one mail.">
          {(p) => (
            <SelectInput {...p} value={draft.emailMode} onChange={(e) => { setSaved(false); setDraft((d) => ({ ...d, emailMode: e.target.value as EmailMode })); }}>
              {EMAIL_MODES.map((m) => <option key={m.value} value={m.value}>{m.label}</option>)}
            </SelectInput>
          )}
        </Field>
      </Card>
      <Card padded={false} title="Events">
        <Table label="Notification events" head={['Event', 'In the app', 'E-mail', '']}>
          {draft.events.map((e) => (
            <tr key={e.type} data-event={e.type}>
              <Cell>
                <span className="font-medium text-slate-900">{e.label}</span>
                <code className="block font-mono text-xs text-slate-400">{e.type}</code>
              </Cell>
              <Cell layout="nowrap"><Checkbox label={<span className="sr-only">{`${e.label} in the app`}</span>} checked={e.inApp} disabled={e.required} onChange={(ev) => change(e.type, 'inApp', ev.target.checked)} /></Cell>
              <Cell layout="nowrap"><Checkbox label={<span className="sr-only">{`${e.label} by e-mail`}</span>} checked={e.email} disabled={e.required} onChange={(ev) => change(e.type, 'email', ev.target.checked)} /></Cell>
              <Cell layout="nowrap" className="text-xs text-slate-500">{e.required ? 'Required by your organization' : e.custom ? 'Your choice' : 'Organization default'}</Cell>
            </tr>
          ))}
        </Table>
      </Card>
      <div className="flex justify-end">
        <Button variant="primary" type="submit" busy={save.isPending} disabled={!dirty}>Save settings</Button>
      </div>
    </form>
  );
}

function NotificationPreferencesPage() {
  const prefs = useApiQuery(queryKeys.notifications.preferences, notificationPreferencesQuery, {});
  const [saved, setSaved] = useState(false);
  return (
    <>
      <PageHeader title="Notification settings" description="Which events reach you in this organization, and how." />
      {prefs.isPending ? (
        <LoadingBlock />
      ) : prefs.error ? (
        <ErrorNotice error={prefs.error} onRetry={() => void prefs.refetch()} />
      ) : (
        <PreferencesForm key={JSON.stringify(prefs.data.notificationPreferences)} initial={prefs.data.notificationPreferences} saved={saved} setSaved={setSaved} />
      )}
    </>
  );
}

export const notificationPreferencesRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/notification-preferences', component: NotificationPreferencesPage });
