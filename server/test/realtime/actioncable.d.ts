// Minimal typings for the parts of the unmodified @rails/actioncable client the tests use.
declare module '@rails/actioncable' {
  export const adapters: { WebSocket: unknown; logger: unknown };
  export const logger: { enabled: boolean };
  export interface Subscription {
    identifier: string;
    perform(action: string, data?: Record<string, unknown>): boolean;
    unsubscribe(): void;
  }
  export interface Consumer {
    subscriptions: {
      create(params: Record<string, unknown>, mixin: Record<string, (...args: any[]) => void>): Subscription;
    };
    connection: { isOpen(): boolean; getProtocol(): string | undefined };
    disconnect(): void;
  }
  export function createConsumer(url: string): Consumer;
}
