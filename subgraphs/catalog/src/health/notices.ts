import type { HealthStatus } from '../store/health';

/** What the organization was last told about an app's health (app_health.notified_*). */
export interface NoticeState {
  /** The status last announced (or first seen, not announced); null until the app was first seen up or down. */
  notifiedStatus: 'up' | 'down' | null;
  /** When the last notice was written; null: none yet, so the next change is announced at once. */
  notifiedAt: Date | null;
  /** Status changes since the last notice (held while its quiet period runs). */
  changesSinceNotice: number;
}

/** An `app.health_changed` to announce. */
export interface HealthNotice {
  status: 'up' | 'down';
  previousStatus: 'up' | 'down';
  /** Status changes since the previous notice, this one included (more than 1: it flapped while held). */
  changes: number;
}

/**
 * Whether a probe's outcome is news, and what to remember. Only a transition between up and down
 * is announced, measured against what was last announced (not against the previous probe): the
 * first status an app shows is remembered, not announced; a change back to the announced status
 * is no news. After a notice, changes within `quietMs` are held and counted; the first probe after
 * the quiet period whose status still differs from the announced one announces it, with the count.
 * So an app says at most one thing per quiet period however fast it flaps, and the last word is
 * always its status as it settled.
 */
export function decideHealthNotice(
  state: NoticeState,
  next: HealthStatus,
  statusChanged: boolean,
  now: Date,
  quietMs: number,
): { state: NoticeState; notice?: HealthNotice } {
  if (next === 'unknown') return { state };
  if (state.notifiedStatus === null) return { state: { notifiedStatus: next, notifiedAt: null, changesSinceNotice: 0 } };
  const changes = Math.min(1_000_000, state.changesSinceNotice + (statusChanged ? 1 : 0));
  const held = { ...state, changesSinceNotice: changes };
  if (next === state.notifiedStatus) return { state: held };
  if (state.notifiedAt !== null && now.getTime() < state.notifiedAt.getTime() + quietMs) return { state: held };
  return {
    state: { notifiedStatus: next, notifiedAt: now, changesSinceNotice: 0 },
    notice: { status: next, previousStatus: state.notifiedStatus, changes: Math.max(1, changes) },
  };
}
