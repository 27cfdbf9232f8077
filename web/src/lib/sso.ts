import type { KeyValueStorage } from './api/session';

/**
 * What the browser keeps between sending someone to their identity provider and their coming back
 * to /sso/callback: the binding startSsoSignIn answered (the API refuses a callback without it, so a
 * callback link pushed into another browser signs nobody in there) and where they were going. In
 * sessionStorage: this tab only, gone when it closes.
 */
export const SSO_STORAGE_KEY = 'orchestra.sso';

export interface PendingSsoSignIn {
  binding: string;
  redirect: string;
}

export function rememberSsoSignIn(storage: KeyValueStorage, pending: PendingSsoSignIn): void {
  storage.setItem(SSO_STORAGE_KEY, JSON.stringify(pending));
}

/** The pending sign-in, taken out of storage (a callback is handled once). */
export function takeSsoSignIn(storage: KeyValueStorage): PendingSsoSignIn | undefined {
  const raw = storage.getItem(SSO_STORAGE_KEY);
  storage.removeItem(SSO_STORAGE_KEY);
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<PendingSsoSignIn>;
    if (typeof value.binding !== 'string') return undefined;
    return { binding: value.binding, redirect: typeof value.redirect === 'string' ? value.redirect : '/' };
  } catch {
    return undefined;
  }
}

/** What the sign-in form's one box holds: an address (its domain finds the organization) or a sign-in name. */
export const ssoStartInput = (typed: string): { email: string } | { slug: string } => (typed.includes('@') ? { email: typed.trim() } : { slug: typed.trim() });
