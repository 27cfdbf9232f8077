import { NOTIFICATION_EVENTS, type NotificationEventType } from '@orchestra/lib';
import type { EmailMode, OrgEventSetting, UserEventPreference } from '../store/preferences';

/** Where one event goes for one user. `email` is how: at once, in the next digest, or not at all. */
export interface Channels {
  inApp: boolean;
  email: 'each' | 'digest' | 'none';
}

/** The organization's default for an event: its own setting, else the registry's (opt-in events off). */
export function orgDefault(type: NotificationEventType, setting: OrgEventSetting | undefined): OrgEventSetting {
  if (setting !== undefined) return setting;
  const on = !NOTIFICATION_EVENTS[type].optIn;
  return { eventType: type, inApp: on, email: on, required: false };
}

/**
 * One user's channels for an event. The user's choice wins over the organization's default, except
 * that a required event cannot be turned off (its channels are the organization's, at least). An
 * e-mail mode of `off` silences optional e-mail; `digest` turns e-mail into the digest.
 */
export function resolveChannels(
  type: NotificationEventType,
  orgSetting: OrgEventSetting | undefined,
  userPref: UserEventPreference | undefined,
  emailMode: EmailMode,
): Channels {
  const base = orgDefault(type, orgSetting);
  let inApp = userPref?.inApp ?? base.inApp;
  let email = userPref?.email ?? base.email;
  if (base.required) {
    inApp ||= base.inApp;
    email ||= base.email;
  }
  if (emailMode === 'off' && !(base.required && base.email)) email = false;
  return { inApp, email: !email ? 'none' : emailMode === 'digest' ? 'digest' : 'each' };
}
