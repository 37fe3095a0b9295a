/**
 * The agent's notification preferences, stored server-side in the profile's `ui_settings`
 * (`ui_settings.notifications`), so they follow the agent from browser to browser.
 */
export type NotificationSettings = {
  /** A short chime for what is in scope. */
  sound: boolean;
  /** A browser notification (once the browser allows them) for what is in scope. */
  browser: boolean;
  /** Scope: a new conversation, unassigned or assigned to me. */
  new_conversations: boolean;
  /** Scope: an incoming message in a conversation assigned to me. */
  assigned_to_me: boolean;
  /** Scope: an incoming message in an unassigned conversation. */
  unassigned: boolean;
};

export const DEFAULT_NOTIFICATIONS: NotificationSettings = {
  sound: true,
  browser: false,
  new_conversations: true,
  assigned_to_me: true,
  unassigned: true,
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The profile's ui_settings as an object (it may be missing or, from old clients, not an object). */
export function uiSettingsOf(ui: unknown): Record<string, unknown> {
  if (isObject(ui)) return ui;
  if (typeof ui === 'string') {
    try {
      const parsed: unknown = JSON.parse(ui);
      if (isObject(parsed)) return parsed;
    } catch {
      /* not JSON */
    }
  }
  return {};
}

/** The stored preferences with the defaults for anything missing. */
export function readNotifications(ui: unknown): NotificationSettings {
  const stored = uiSettingsOf(ui).notifications;
  const out = { ...DEFAULT_NOTIFICATIONS };
  if (isObject(stored)) for (const k of Object.keys(out) as (keyof NotificationSettings)[]) if (typeof stored[k] === 'boolean') out[k] = stored[k];
  return out;
}

export type Permission = NotificationPermission | 'unsupported';

export const notificationsSupported = () => typeof window !== 'undefined' && 'Notification' in window;

export function notificationPermission(): Permission {
  return notificationsSupported() ? window.Notification.permission : 'unsupported';
}
