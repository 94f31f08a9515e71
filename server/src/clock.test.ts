import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "./clock.js";

const DAY_MS = 24 * 60 * 60_000;

describe("systemClock.schedule", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("waits the whole delay past setTimeout's 24.8-day limit (a year-long session)", () => {
    const callback = vi.fn();
    systemClock.schedule(callback, 40 * DAY_MS);
    vi.advanceTimersByTime(40 * DAY_MS - 1);
    expect(callback).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it("can be cancelled while a long delay is still chaining", () => {
    const callback = vi.fn();
    const handle = systemClock.schedule(callback, 60 * DAY_MS);
    vi.advanceTimersByTime(30 * DAY_MS);
    handle.cancel();
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(callback).not.toHaveBeenCalled();
  });
});
