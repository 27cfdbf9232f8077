import { QueryClient } from '@tanstack/react-query';
import { createApiClient, type ApiClient } from './client';
import { ApiError } from './errors';
import { createLiveClient, type LiveClient } from './live';
import type { ChangePasswordInput } from './__generated__/graphql';
import { changePasswordMutation, logoutMutation, refreshTokenMutation, switchOrganizationMutation } from './operations/identity';
import { browserSessionDeps, createSession, type Session, type SessionDeps, type SessionIdentity } from './session';

/** Everything the pages use to reach Orchestra, made once by main.tsx and handed down in context. */
export interface AppServices {
  session: Session;
  api: ApiClient;
  live: LiveClient;
  queryClient: QueryClient;
  switchOrganization(organizationId: string): Promise<SessionIdentity>;
  /**
   * Changes the password and adopts the fresh session the answer carries. It holds the session's
   * rotation lock: the change revokes every token of the user (this tab's too), and a refresh that
   * the revocation triggers meanwhile (a live subscription ended by it) waits for the new session
   * instead of trading the old refresh token, which the change has ended.
   */
  changePassword(input: ChangePasswordInput): Promise<SessionIdentity>;
  signOut(): Promise<void>;
  dispose(): void;
}

export interface AppServicesOptions {
  /** Origin-relative by default: the gateway serves the app and /graphql together. */
  graphqlUrl?: string;
  websocketUrl?: string;
  sessionDeps?: Omit<SessionDeps, 'exchange'>;
}

const defaultWebSocketUrl = (graphqlUrl: string): string => {
  const url = new URL(graphqlUrl, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
};

export function createAppServices(options: AppServicesOptions = {}): AppServices {
  const graphqlUrl = options.graphqlUrl ?? '/graphql';
  // The API needs the session's token and the session needs the API to refresh: the API reaches the
  // session only when a request is made, after both exist.
  const api: ApiClient = createApiClient({
    url: graphqlUrl,
    session: { getAccessToken: () => session.getAccessToken(), refresh: (stale) => session.refresh(stale) },
  });
  const session = createSession({
    ...(options.sessionDeps ?? browserSessionDeps()),
    exchange: async (refreshToken) => (await api.request(refreshTokenMutation, { refreshToken }, { authenticated: false })).refreshToken,
  });
  const live = createLiveClient({ url: options.websocketUrl ?? defaultWebSocketUrl(graphqlUrl), session });
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: true,
        // Retrying cannot fix what the API refused; it may fix a network blip.
        retry: (failures, error) => failures < 2 && error instanceof ApiError && (error.code === 'NETWORK' || error.code === 'UNAVAILABLE'),
      },
      mutations: { retry: false },
    },
  });

  // Data of one organization must never show in another: a switch (here or in another tab) or a
  // sign-out empties the cache and closes the socket that was authenticated as the old one.
  let organizationId: string | undefined;
  const unsubscribe = session.subscribe(() => {
    const state = session.getState();
    const next = state.status === 'signedIn' ? state.identity.organization.id : undefined;
    if (state.status === 'restoring' || next === organizationId) return;
    if (organizationId !== undefined) {
      queryClient.clear();
      live.reset();
    }
    organizationId = next;
  });

  return {
    session,
    api,
    live,
    queryClient,
    async switchOrganization(target) {
      const token = await session.getAccessToken();
      return session.rotate(async (refreshToken) => (await api.request(switchOrganizationMutation, { organizationId: target, refreshToken }, { token })).switchOrganization);
    },
    async changePassword(input) {
      const token = await session.getAccessToken();
      return session.rotate(async () => (await api.request(changePasswordMutation, { input }, { token })).changePassword);
    },
    async signOut() {
      await session.signOut(async (refreshToken) => api.request(logoutMutation, { refreshToken }, { authenticated: false }));
      queryClient.clear();
      live.reset();
    },
    dispose() {
      unsubscribe();
      live.reset();
      session.dispose();
      queryClient.clear();
    },
  };
}
