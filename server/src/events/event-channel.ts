/**
 * How a feature says "this happened" without knowing who listens (STYLE §11): it owns the event
 * type and publishes; the realtime layer, activity, timers and other features subscribe.
 */
export type EventListener<E> = (event: E) => void | Promise<void>;

export interface EventChannel<E> {
  subscribe(listener: EventListener<E>): void;
  /** Runs every listener, in the order they subscribed, and waits for each. */
  publish(event: E): Promise<void>;
}

/**
 * In-process: each server process hears its own events. Carrying them to sockets held by other
 * processes is the realtime layer's job (the Socket.IO adapter), not this one's.
 */
export function createEventChannel<E>(): EventChannel<E> {
  const listeners: EventListener<E>[] = [];
  return {
    subscribe(listener) {
      listeners.push(listener);
    },
    async publish(event) {
      // One after another: a listener that writes (activity, a pause) finishes before the
      // caller answers, so whoever reads next sees it.
      for (const listener of listeners) await listener(event);
    },
  };
}
