import type { Clock, TimerHandle } from "../clock.js";

export interface FakeClock extends Clock {
  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms: number): void;
  set(now: number): void;
  /** How many timers are armed (neither run nor cancelled): what a test checks for leaks. */
  pendingTimers(): number;
}

/** A clock for tests: time stands still until the test moves it. */
export function createFakeClock(options: { start?: number } = {}): FakeClock {
  let now = options.start ?? Date.UTC(2026, 0, 1);
  let nextId = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();

  const runDue = (): void => {
    for (;;) {
      let due: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of timers) if (entry[1].at <= now && (due === undefined || entry[1].at < due[1].at)) due = entry;
      if (due === undefined) return;
      timers.delete(due[0]);
      due[1].callback();
    }
  };

  return {
    now: () => now,
    schedule(callback, delayMs): TimerHandle {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, delayMs), callback });
      return { cancel: () => void timers.delete(id) };
    },
    advance(ms) {
      now += ms;
      runDue();
    },
    set(value) {
      now = value;
      runDue();
    },
    pendingTimers: () => timers.size,
  };
}
