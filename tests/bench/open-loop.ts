/**
 * An open loop: arrivals on a fixed schedule, whatever the server's answers, so a slow server
 * meets a queue instead of a patient client (a closed loop would wait, and hide the delay).
 */
export interface ArrivalSchedule {
  /** Arrivals that are due by `now` and not yet taken, in order; each is taken once. */
  takeDue(now: number): { index: number; dueAt: number }[];
  /** When the next arrival is due (ms, same clock as `now`); null once every arrival is taken. */
  nextDueAt(): number | null;
}

/** `count` arrivals `1000 / ratePerSecond` ms apart, the first at `startAt`. */
export function arrivalSchedule(options: { startAt: number; ratePerSecond: number; count: number }): ArrivalSchedule {
  const { startAt, ratePerSecond, count } = options;
  if (!(ratePerSecond > 0)) throw new Error(`arrivalSchedule: expected a positive rate, got ${ratePerSecond}`);
  if (!Number.isInteger(count) || count < 0) throw new Error(`arrivalSchedule: expected a whole count, got ${count}`);
  const gapMs = 1000 / ratePerSecond;
  const dueAt = (index: number): number => startAt + index * gapMs;
  let next = 0;
  return {
    takeDue(now) {
      const due: { index: number; dueAt: number }[] = [];
      // Late timers hand over several at once: each keeps its own due time, so lateness is measured.
      while (next < count && dueAt(next) <= now) {
        due.push({ index: next, dueAt: dueAt(next) });
        next += 1;
      }
      return due;
    },
    nextDueAt() {
      return next < count ? dueAt(next) : null;
    },
  };
}
