/** The outbox: one import for its parts (each in its own file). */
export { recordEvent, eventSink, type EventSink } from './record.js';
export type { BatchCommit, Listener, OutboxEvent } from './listener.js';
export { TransientError, isTransient } from './errors.js';
export type { RetryPolicy } from './retry.js';
export { Dispatcher } from './dispatcher.js';
export type { Executor } from '../db.js';
