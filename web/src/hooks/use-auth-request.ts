import { useState } from 'react';
import type { AuthPayload } from '../lib/api/session';
import { useServices } from './services';

/**
 * A request that signs the user in (login, sign-up, accepting an invitation): busy while it runs,
 * its error kept for the form, and the session it answers adopted. `run` resolves to whether it did.
 */
export function useAuthRequest() {
  const { session } = useServices();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async (request: () => Promise<AuthPayload>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      session.adopt(await request());
      return true;
    } catch (caught) {
      setError(caught);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}
