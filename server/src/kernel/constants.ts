/**
 * The stored numbers of the wire enums, named once. Columns hold the number; JSON carries the name
 * (the name lists are indexed by these numbers). Compare and write with these, never a bare number.
 */

export const ROLE_NAMES = ['agent', 'administrator'] as const;
export type Role = (typeof ROLE_NAMES)[number];
export const ROLE = { agent: 0, administrator: 1 } as const;

export const ACCOUNT_STATUS = { active: 0, suspended: 1 } as const;

export const AVAILABILITY_NAMES = ['online', 'offline', 'busy'] as const;
export const AVAILABILITY = { online: 0, offline: 1, busy: 2 } as const;

export const MESSAGE_TYPE_NAMES = ['incoming', 'outgoing', 'activity', 'template'] as const;
export const MESSAGE_TYPE = { incoming: 0, outgoing: 1, activity: 2, template: 3 } as const;

export const MESSAGE_STATUS_NAMES = ['sent', 'delivered', 'read', 'failed'] as const;
export const MESSAGE_STATUS = { sent: 0, delivered: 1, read: 2, failed: 3 } as const;

export const CONVERSATION_STATUS_NAMES = ['open', 'resolved', 'pending', 'snoozed'] as const;
export const CONVERSATION_STATUS = { open: 0, resolved: 1, pending: 2, snoozed: 3 } as const;

/** 0/1 flag columns (booleans are integers on both dialects). */
export const FLAG = { off: 0, on: 1 } as const;
