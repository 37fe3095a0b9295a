/** Sound, browser notifications and the unread count in the tab title. Placeholder until built. */
export function Notifier() {
  return null;
}
