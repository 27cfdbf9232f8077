import { AppError } from '@orchestra/lib';

export const APP_STATUSES = ['active', 'paused', 'archived'] as const;
export type AppStatus = (typeof APP_STATUSES)[number];

export type AppTransition = 'pause' | 'resume' | 'archive' | 'restore';

/**
 * Which status each transition leads to, from which statuses. An archived app is read-only; it
 * comes back paused, so whatever it drives restarts only when someone resumes it on purpose.
 */
const TRANSITIONS: Record<AppTransition, { from: readonly AppStatus[]; to: AppStatus }> = {
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused'], to: 'active' },
  archive: { from: ['active', 'paused'], to: 'archived' },
  restore: { from: ['archived'], to: 'paused' },
};

/** The status after `transition`, or CONFLICT saying why the app cannot make it. */
export function nextStatus(slug: string, current: AppStatus, transition: AppTransition): AppStatus {
  const { from, to } = TRANSITIONS[transition];
  if (from.includes(current)) return to;
  const why = current === to ? `it is already ${current}` : `it is ${current} (${transition} works on ${from.join(' or ')} apps)`;
  throw new AppError('CONFLICT', `cannot ${transition} app ${slug}: ${why}`, {
    reason: 'INVALID_STATUS_TRANSITION',
    details: { status: current.toUpperCase(), transition },
  });
}

/** Archived apps keep their data but take no changes until restored. */
export function assertMutable(slug: string, status: AppStatus, what: string): void {
  if (status === 'archived') {
    throw new AppError('CONFLICT', `cannot ${what} of app ${slug}: it is archived (restore it first)`, { reason: 'APP_ARCHIVED' });
  }
}
