import { Link } from '@tanstack/react-router';
import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { meQuery, resendVerificationEmailMutation } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { Button } from './button';
import { ErrorNotice } from './feedback';

/** Shown on every page while the signed-in user's address is unverified: they cannot join other organizations until it is. */
export function VerifyEmailBanner() {
  const me = useApiQuery(queryKeys.me, meQuery, {});
  const resend = useApiMutation(resendVerificationEmailMutation);
  const user = me.data?.me.user;
  if (!user || user.emailVerified) return null;
  return (
    <div role="status" data-testid="verify-email-banner" className="mb-6 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900">
      <p>
        Please verify <strong>{user.email}</strong>: follow the link we mailed to it. Until then you cannot accept invitations to other organizations.{' '}
        <Link to="/account" className="font-medium underline">
          Change the address
        </Link>
      </p>
      <div className="mt-2 flex items-center gap-3">
        <Button size="sm" variant="secondary" busy={resend.isPending} disabled={resend.isSuccess} onClick={() => resend.mutate({})}>
          {resend.isSuccess ? 'Mail sent' : 'Send the link again'}
        </Button>
        {resend.error && <ErrorNotice error={resend.error} title="No mail was sent" />}
      </div>
    </div>
  );
}
