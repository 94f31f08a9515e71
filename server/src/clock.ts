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

/** setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(callback, delayMs) {
    const due = Date.now() + Math.max(0, delayMs);
    let timer: NodeJS.Timeout;
    // Long delays (a year-long session) run as a chain of shorter timers.
    const arm = (): void => {
      const remaining = due - Date.now();
      timer = setTimeout(remaining > MAX_TIMEOUT_MS ? arm : callback, Math.min(Math.max(0, remaining), MAX_TIMEOUT_MS));
      // A pending expiry must never keep a process alive that is shutting down.
      timer.unref();
    };
    arm();
    return { cancel: () => clearTimeout(timer) };
  },
};
