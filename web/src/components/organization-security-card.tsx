import { useApiMutation, useApiQuery } from '../hooks/use-api';
import { meQuery, setTwoFactorRequiredMutation } from '../lib/api/operations/identity';
import { queryKeys } from '../lib/api/query-keys';
import { Button } from './button';
import { Card } from './card';
import { ErrorNotice } from './feedback';

/** For admins: whether the organization requires its members to sign in with a second factor. */
export function OrganizationSecurityCard() {
  const me = useApiQuery(queryKeys.me, meQuery, {});
  const set = useApiMutation(setTwoFactorRequiredMutation, { invalidates: [queryKeys.me, queryKeys.members.all] });
  const required = me.data?.me.organization.requireTwoFactor === true;
  return (
    <Card title="Organization sign-in">
      <div className="max-w-md space-y-3">
        <p className="text-sm text-slate-700" data-testid="require-two-factor-status">
          {required ? `${me.data?.me.organization.name ?? 'This organization'} requires two-factor sign-in: members without it are sent to set it up.` : 'Two-factor sign-in is optional for members.'}
        </p>
        {set.error && <ErrorNotice error={set.error} title="The setting was not changed" />}
        <Button variant={required ? 'secondary' : 'primary'} busy={set.isPending} onClick={() => set.mutate({ required: !required })}>
          {required ? 'Make two-factor optional' : 'Require two-factor sign-in'}
        </Button>
      </div>
    </Card>
  );
}
