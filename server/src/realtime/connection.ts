import type { WebSocket } from 'ws';
import type { Sub } from './rooms.js';

/**
 * The state of one /cable socket. Deliberately a plain object with a few fields and no timers or
 * closures of its own: the hub's shared timers and shared event handlers serve every socket.
 */
export class Conn {
  /** Confirmed subscriptions (usually one). */
  subs: Sub[] = [];
  /** JSON-escaped identifiers whose subscribe is being authorized (null when none). */
  pending: string[] | null = null;
  /** Subscribe commands in the current rate window. */
  attempts = 0;
  windowStart: number;
  /** True once one subscription was confirmed (ends the authentication deadline). */
  authed = false;
  closed = false;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    readonly openedAt: number,
    /** Which of the hub's ping slots serves this socket. */
    readonly slot: number,
  ) {
    this.windowStart = openedAt;
  }

  findSub(idJson: string): Sub | undefined {
    for (const s of this.subs) if (s.idJson === idJson) return s;
    return undefined;
  }

  removeSub(sub: Sub) {
    const i = this.subs.indexOf(sub);
    if (i >= 0) this.subs.splice(i, 1);
  }

  isPending(idJson: string) {
    return !!this.pending?.includes(idJson);
  }

  addPending(idJson: string) {
    (this.pending ??= []).push(idJson);
  }

  dropPending(idJson: string) {
    if (!this.pending) return;
    const i = this.pending.indexOf(idJson);
    if (i >= 0) this.pending.splice(i, 1);
    if (!this.pending.length) this.pending = null;
  }

  get pendingCount() {
    return this.pending?.length ?? 0;
  }
}
