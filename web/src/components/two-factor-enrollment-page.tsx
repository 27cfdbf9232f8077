import { useState } from 'react';
import { useServices } from '../hooks/services';
import type { SessionIdentity } from '../lib/api/session';
import { Button } from './button';
import { Icon } from './icons';
import { Logo } from './logo';
import { TwoFactorCard } from './two-factor-card';

/**
 * What a member sees while their organization requires two-factor sign-in and they have none: only
 * enrolment and sign-out (the gateway refuses everything else to their token until they enrol:
 * FORBIDDEN / TWO_FACTOR_ENROLLMENT_REQUIRED). No navigation, no live feeds, no other queries.
 */
export function TwoFactorEnrollmentPage({ identity, onDone }: { identity: SessionIdentity; onDone: () => void }) {
  const services = useServices();
  const [signingOut, setSigningOut] = useState(false);
  return (
    <div className="min-h-screen bg-slate-50">
      <header className="flex h-14 items-center gap-3 border-b border-slate-200 bg-white px-4 sm:px-6">
        <Logo className="size-7" />
        <span className="text-base font-semibold tracking-tight text-slate-900">Orchestra</span>
        <div className="ml-auto flex items-center gap-3">
          <p className="text-sm text-slate-600">{identity.user.email}</p>
          <Button
            variant="ghost"
            size="sm"
            busy={signingOut}
            onClick={() => {
              setSigningOut(true);
              void services.signOut().finally(() => setSigningOut(false));
            }}
          >
            <Icon name="signOut" />
            Sign out
          </Button>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-2xl space-y-4 px-4 py-8" data-testid="two-factor-enrollment-page">
        <h1 className="text-xl font-semibold text-slate-900">Set up two-factor sign-in</h1>
        <p className="text-sm text-slate-600">
          {identity.organization.name} requires a second factor for every member. Add Orchestra to an authenticator app to continue; until then only this page is available.
        </p>
        <TwoFactorCard onContinue={onDone} />
      </main>
    </div>
  );
}
