import { useLocation } from '@tanstack/react-router';
import { useApiQuery } from '../hooks/use-api';
import { meQuery } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { Redirect } from './redirect';

/** Sends a member of an organization that requires two-factor, who has none, to the account page to enrol. */
export function TwoFactorGate() {
  const me = useApiQuery(queryKeys.me, meQuery, {});
  const location = useLocation();
  if (me.data?.me.twoFactorEnrollmentRequired !== true || location.pathname === '/account') return null;
  return <Redirect to="/account" />;
}
