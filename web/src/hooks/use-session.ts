import { useSyncExternalStore } from 'react';
import type { SessionIdentity, SessionState } from '../lib/api/session';
import { permissions, type Permissions } from '../lib/roles';
import { useServices } from './services';

export function useSessionState(): SessionState {
  const { session } = useServices();
  return useSyncExternalStore(session.subscribe, session.getState);
}

/** The signed-in identity; only for pages behind the signed-in layout. */
export function useIdentity(): SessionIdentity {
  const state = useSessionState();
  if (state.status !== 'signedIn') throw new Error('useIdentity while not signed in');
  return state.identity;
}

export function usePermissions(): Permissions {
  const state = useSessionState();
  return permissions(state.status === 'signedIn' ? state.identity.role : undefined);
}
