/**
 * Time, injected. Domain code never calls Date.now() or setTimeout directly, so tests can move
 * time forward instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Runs `callback` once `delayMs` has passed on this clock. */
  schedule(callback: () => void, delayMs: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(callback, delayMs) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    // A pending expiry must never keep a process alive that is shutting down.
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};
