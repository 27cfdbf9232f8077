import { toDataURL } from 'qrcode';
import { useEffect, useState, type FormEvent } from 'react';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { confirmTwoFactorEnrollmentMutation, disableTwoFactorMutation, meQuery, startTwoFactorEnrollmentMutation } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { blamesField, fieldErrorFor } from '../lib/field-errors';
import { Button } from './button';
import { Card } from './card';
import { ErrorNotice, Notice } from './feedback';
import { Field, TextInput } from './form';

/** The otpauth:// URL as a QR code (a data: URL, drawn in the browser: the secret never leaves the page). */
function QrCode({ url }: { url: string }) {
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    let live = true;
    void toDataURL(url, { margin: 1, width: 192 }).then((data) => live && setSrc(data));
    return () => {
      live = false;
    };
  }, [url]);
  return src ? <img src={src} alt="QR code to scan with your authenticator app" width={192} height={192} data-testid="two-factor-qr" /> : null;
}

/**
 * Two-factor sign-in on the account page: enrol (QR code, confirmation code), recovery codes once, turn off.
 * With `onContinue` (the enrolment page of an organization that requires it), a button after the recovery codes leaves.
 */
export function TwoFactorCard({ onContinue }: { onContinue?: () => void } = {}) {
  const me = useApiQuery(queryKeys.me, meQuery, {});
  const start = useApiMutation(startTwoFactorEnrollmentMutation);
  const confirm = useApiMutation(confirmTwoFactorEnrollmentMutation, { invalidates: [queryKeys.me] });
  const disable = useApiMutation(disableTwoFactorMutation, { invalidates: [queryKeys.me], onSuccess: () => setPassword('') });
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const enabled = me.data?.me.user.twoFactorEnabled === true;
  const enrollment = start.data?.startTwoFactorEnrollment;
  const recoveryCodes = confirm.data?.confirmTwoFactorEnrollment.recoveryCodes;

  const submitCode = (event: FormEvent) => {
    event.preventDefault();
    confirm.mutate({ code: code.trim() });
  };
  const submitDisable = (event: FormEvent) => {
    event.preventDefault();
    disable.mutate({ currentPassword: password });
  };

  return (
    <Card title="Two-factor sign-in">
      <div className="max-w-md space-y-4" data-testid="two-factor-card">
        {me.data?.me.twoFactorEnrollmentRequired && <Notice tone="warning">{me.data.me.organization.name} requires two-factor sign-in: set it up to continue.</Notice>}
        {recoveryCodes ? (
          <>
            <Notice tone="success">Two-factor sign-in is on. Keep these recovery codes somewhere safe: each stands in for your app once, and they are shown only now.</Notice>
            <ul className="grid grid-cols-2 gap-1 font-mono text-sm" data-testid="recovery-codes">
              {recoveryCodes.map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
            {onContinue && (
              <Button variant="primary" onClick={onContinue}>
                I have saved them: continue
              </Button>
            )}
          </>
        ) : enabled ? (
          <form onSubmit={submitDisable} className="space-y-4" noValidate>
            <p className="text-sm text-slate-700" data-testid="two-factor-status">On: sign-in asks for a code from your authenticator app.</p>
            {disable.error && !blamesField(disable.error, ['currentPassword']) && <ErrorNotice error={disable.error} title="Two-factor sign-in was not turned off" />}
            <Field label="Password to turn it off" error={fieldErrorFor(disable.error, 'currentPassword')}>
              {(p) => <TextInput {...p} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
            </Field>
            <Button type="submit" variant="danger" busy={disable.isPending} disabled={!password}>
              Turn off two-factor sign-in
            </Button>
          </form>
        ) : enrollment ? (
          <form onSubmit={submitCode} className="space-y-4" noValidate>
            <p className="text-sm text-slate-700">Scan this code with your authenticator app, then enter the six digits it shows.</p>
            <QrCode url={enrollment.otpauthUrl} />
            <p className="text-xs text-slate-500">
              Cannot scan? Enter this key: <code className="break-all font-mono" data-testid="two-factor-secret">{enrollment.secret}</code>
            </p>
            {confirm.error && !blamesField(confirm.error, ['code']) && <ErrorNotice error={confirm.error} title="Two-factor sign-in was not turned on" />}
            <Field label="Code from the app" error={fieldErrorFor(confirm.error, 'code')}>
              {(p) => <TextInput {...p} inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => { setCode(e.target.value); if (confirm.error) confirm.reset(); }} />}
            </Field>
            <Button type="submit" variant="primary" busy={confirm.isPending} disabled={!code.trim()}>
              Turn on
            </Button>
          </form>
        ) : (
          <>
            <p className="text-sm text-slate-700" data-testid="two-factor-status">Off: your password alone signs you in.</p>
            {start.error && <ErrorNotice error={start.error} title="Enrolment did not start" />}
            <Button variant="primary" busy={start.isPending} onClick={() => start.mutate({})}>
              Set up two-factor sign-in
            </Button>
          </>
        )}
      </div>
    </Card>
  );
}
