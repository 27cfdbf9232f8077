import { createRoute } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { Button } from '../components/button';
import { Card, Details } from '../components/card';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyButton } from '../components/copy-button';
import { ErrorNotice, LoadingBlock, Notice } from '../components/feedback';
import { Checkbox, Field, SelectInput, TextArea, TextInput } from '../components/form';
import { PageHeader } from '../components/page-header';
import { useServices } from '../hooks/services';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { usePermissions } from '../hooks/use-session';
import type { Role, SsoConnectionQuery, TestSsoConnectionQuery } from '../lib/api/__generated__/graphql';
import { configureSsoMutation, deleteSsoConnectionMutation, ssoConnectionQuery, testSsoConnectionQuery } from '../lib/api/operations/sso';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { roleLabel } from '../lib/roles';
import { appLayoutRoute } from './app-layout';

type Connection = NonNullable<SsoConnectionQuery['ssoConnection']>;
type Discovery = TestSsoConnectionQuery['testSsoConnection'];

const FIELDS = ['slug', 'issuer', 'clientId', 'clientSecret', 'domains', 'defaultRole'];
const JIT_ROLES: Role[] = ['VIEWER', 'OPERATOR', 'ADMIN'];

/** Domains as typed: one per line or comma-separated. */
const splitDomains = (text: string): string[] => text.split(/[\s,]+/).map((d) => d.trim()).filter(Boolean);

/** An organization admin's OpenID Connect settings (issue 13); the client secret is write-only. */
/**
 * The form, keyed by the connection's updatedAt so it starts again from what was saved; whether the
 * last save went through is kept by the page (`saved`), as the save itself remounts the form.
 */
function SsoForm({ connection, saved, setSaved }: { connection: Connection | null; saved: boolean; setSaved: (saved: boolean) => void }) {
  const { api } = useServices();
  const [slug, setSlug] = useState(connection?.slug ?? '');
  const [issuer, setIssuer] = useState(connection?.issuer ?? '');
  const [clientId, setClientId] = useState(connection?.clientId ?? '');
  const [clientSecret, setClientSecret] = useState('');
  const [domains, setDomains] = useState(connection?.domains.join('\n') ?? '');
  const [defaultRole, setDefaultRole] = useState<Role>(connection?.defaultRole ?? 'VIEWER');
  const [requireSso, setRequireSso] = useState(connection?.requireSso ?? false);
  const [testing, setTesting] = useState<{ busy: boolean; result?: Discovery; error?: unknown }>({ busy: false });
  const [removing, setRemoving] = useState(false);
  const save = useApiMutation(configureSsoMutation, { invalidates: [queryKeys.sso.connection], onSuccess: () => { setSaved(true); setClientSecret(''); } });
  const remove = useApiMutation(deleteSsoConnectionMutation, { invalidates: [queryKeys.sso.connection], onSuccess: () => setRemoving(false) });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    save.mutate({ input: { slug, issuer: issuer.trim(), clientId, clientSecret: clientSecret === '' ? null : clientSecret, domains: splitDomains(domains), defaultRole, requireSso } });
  };

  const test = async () => {
    setTesting({ busy: true });
    try {
      setTesting({ busy: false, result: (await api.request(testSsoConnectionQuery, { issuer: issuer.trim() })).testSsoConnection });
    } catch (error) {
      setTesting({ busy: false, error });
    }
  };

  return (
    <div className="space-y-6">
      <form onSubmit={submit} className="space-y-6" noValidate>
        <Card title="OpenID Connect provider">
          <div className="grid max-w-2xl gap-4">
            {save.error !== undefined && save.error !== null && !blamesField(save.error, FIELDS) && <ErrorNotice error={save.error} title="Single sign-on was not saved" />}
            {saved && <Notice tone="success">Saved.</Notice>}
            <Field label="Issuer URL" hint="The provider's issuer; its discovery document is read from /.well-known/openid-configuration below it." error={fieldErrorFor(save.error, 'issuer')}>
              {(p) => <TextInput {...p} type="url" required placeholder="https://login.example.com" value={issuer} onChange={(e) => { setIssuer(e.target.value); setTesting({ busy: false }); }} />}
            </Field>
            <div>
              <Button onClick={() => void test()} busy={testing.busy} disabled={issuer.trim() === ''}>Test connection</Button>
            </div>
            {testing.error !== undefined && <ErrorNotice error={testing.error} title="The provider's discovery document could not be read" />}
            {testing.result && (
              <div data-testid="sso-discovery">
                <Notice tone="success">The provider answers. {testing.result.supportsPkce ? 'It supports PKCE (S256).' : 'It does not say it supports PKCE (S256): sign-in may fail.'}</Notice>
                <Details
                  items={[
                    ['Issuer', <code key="i">{testing.result.issuer}</code>],
                    ['Authorization endpoint', <code key="a">{testing.result.authorizationEndpoint}</code>],
                    ['Token endpoint', <code key="t">{testing.result.tokenEndpoint}</code>],
                    ['JWKS', <code key="j">{testing.result.jwksUri ?? 'none'}</code>],
                  ]}
                />
              </div>
            )}
            <Field label="Client id" error={fieldErrorFor(save.error, 'clientId')}>
              {(p) => <TextInput {...p} required autoComplete="off" value={clientId} onChange={(e) => setClientId(e.target.value)} />}
            </Field>
            <Field
              label="Client secret"
              hint={connection?.clientSecretSet ? 'A secret is stored (encrypted; it is never shown). Leave this empty to keep it.' : 'Stored encrypted; it is never shown again.'}
              error={fieldErrorFor(save.error, 'clientSecret')}
            >
              {(p) => <TextInput {...p} type="password" autoComplete="new-password" value={clientSecret} placeholder={connection?.clientSecretSet ? '•••••••• (stored)' : ''} onChange={(e) => setClientSecret(e.target.value)} />}
            </Field>
            {connection && (
              <div className="text-sm text-slate-700">
                <p className="font-medium">Redirect URI (register it at the provider)</p>
                <div className="mt-1 flex items-center gap-2">
                  <code className="rounded bg-slate-100 px-2 py-1" data-testid="sso-redirect-uri">{connection.redirectUri}</code>
                  <CopyButton text={connection.redirectUri} />
                </div>
              </div>
            )}
          </div>
        </Card>
        <Card title="Who signs in">
          <div className="grid max-w-2xl gap-4">
            <Field label="E-mail domains" hint="One per line. People with addresses at these domains sign in through the provider; a domain belongs to one organization." error={fieldErrorFor(save.error, 'domains')}>
              {(p) => <TextArea {...p} rows={3} value={domains} placeholder="example.com" onChange={(e) => setDomains(e.target.value)} />}
            </Field>
            <Field label="Sign-in name" hint="People may type this on the sign-in page instead of their address." error={fieldErrorFor(save.error, 'slug')}>
              {(p) => <TextInput {...p} required placeholder="acme" value={slug} onChange={(e) => setSlug(e.target.value)} />}
            </Field>
            <Field label="Role of new members" hint="Someone who signs in for the first time joins with this role." error={fieldErrorFor(save.error, 'defaultRole')}>
              {(p) => (
                <SelectInput {...p} value={defaultRole} onChange={(e) => setDefaultRole(e.target.value as Role)}>
                  {JIT_ROLES.map((r) => <option key={r} value={r}>{roleLabel(r)}</option>)}
                </SelectInput>
              )}
            </Field>
            <Checkbox
              label={
                <span>
                  Require single sign-on <span className="block text-xs text-slate-500">Members at these domains can no longer sign in with a password. Owners still can, so a broken provider never locks you out.</span>
                </span>
              }
              checked={requireSso}
              onChange={(e) => setRequireSso(e.target.checked)}
            />
          </div>
        </Card>
        <div className="flex justify-between">
          {connection ? <Button variant="danger" onClick={() => setRemoving(true)}>Remove single sign-on</Button> : <span />}
          <Button variant="primary" type="submit" busy={save.isPending}>Save</Button>
        </div>
      </form>
      {removing && (
        <ConfirmDialog title="Remove single sign-on?" confirmLabel="Remove" variant="danger" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate({})} onClose={() => setRemoving(false)}>
          Members keep their accounts; those who only ever signed in through the provider have no password and must reset one.
        </ConfirmDialog>
      )}
    </div>
  );
}

function SsoSettingsPage() {
  const can = usePermissions();
  const connection = useApiQuery(queryKeys.sso.connection, ssoConnectionQuery, {}, { enabled: can.manageSso });
  const [saved, setSaved] = useState(false);
  if (!can.manageSso) return <Notice tone="warning">Only admins and owners manage single sign-on.</Notice>;
  return (
    <>
      <PageHeader title="Single sign-on" description="Members sign in through your OpenID Connect provider (authorization code with PKCE) and join just in time." />
      {connection.isPending ? (
        <LoadingBlock />
      ) : connection.error ? (
        <ErrorNotice error={connection.error} onRetry={() => void connection.refetch()} />
      ) : (
        <SsoForm key={connection.data.ssoConnection?.updatedAt ?? 'new'} connection={connection.data.ssoConnection ?? null} saved={saved} setSaved={setSaved} />
      )}
    </>
  );
}

export const ssoSettingsRoute = createRoute({ getParentRoute: () => appLayoutRoute, path: '/single-sign-on', component: SsoSettingsPage });
