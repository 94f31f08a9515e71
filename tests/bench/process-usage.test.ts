import { describe, expect, it } from "vitest";
import { arrivalSchedule } from "./open-loop.js";
import { cpuPerOperation, cpuTicksFromProcStat, memoryPerItem, type ProcessUsage } from "./process-usage.js";

const MIB = 2 ** 20;

function reading(options: {
  userMicros: number;
  systemMicros: number;
  at: number;
  heapUsed?: number;
  rss?: number;
}): ProcessUsage {
  return {
    cpu: { user: options.userMicros, system: options.systemMicros },
    memory: { rss: options.rss ?? 0, heapUsed: options.heapUsed ?? 0, heapTotal: 0, external: 0, arrayBuffers: 0 },
    at: options.at,
  };
}

describe("cpuPerOperation", () => {
  it("counts user and system time between the readings, per operation, and against the wall clock", () => {
    const figures = cpuPerOperation({
      before: reading({ userMicros: 5_000_000, systemMicros: 1_000_000, at: 10_000 }),
      // 1.5 s of user and 0.5 s of system time over 4 s of wall time, for 1,000 operations.
      after: reading({ userMicros: 6_500_000, systemMicros: 1_500_000, at: 14_000 }),
      operations: 1_000,
    });
    expect(figures).toEqual({
      operations: 1_000,
      wallSeconds: 4,
      cpuMs: 2_000,
      msPerOperation: 2,
      perSecond: 250,
      busy: 0.5,
    });
  });

  it("refuses readings that cannot belong to one process over one window", () => {
    const before = reading({ userMicros: 2_000, systemMicros: 0, at: 1_000 });
    expect(() => cpuPerOperation({ before, after: before, operations: 1 })).toThrow(/second reading after the first/);
    expect(() =>
      cpuPerOperation({ before, after: reading({ userMicros: 1_000, systemMicros: 0, at: 2_000 }), operations: 1 }),
    ).toThrow(/CPU time went backwards/);
    expect(() =>
      cpuPerOperation({ before, after: reading({ userMicros: 3_000, systemMicros: 0, at: 2_000 }), operations: 0 }),
    ).toThrow(/positive whole number of operations, got 0/);
  });
});

describe("memoryPerItem", () => {
  it("divides the growth of heap and RSS by the number of items", () => {
    const figures = memoryPerItem({
      before: reading({ userMicros: 0, systemMicros: 0, at: 0, heapUsed: 40 * MIB, rss: 120 * MIB }),
      after: reading({
        userMicros: 0,
        systemMicros: 0,
        at: 1,
        heapUsed: 40 * MIB + 5_000 * 10_240,
        rss: 120 * MIB + 5_000 * 12_288,
      }),
      items: 5_000,
    });
    expect(figures.heapBytesPerItem).toBe(10_240);
    expect(figures.rssBytesPerItem).toBe(12_288);
    expect(figures.before).toEqual({ heapUsed: 40 * MIB, rss: 120 * MIB });
  });
});

describe("cpuTicksFromProcStat", () => {
  it("adds utime and stime, even when the command name holds spaces and parentheses", () => {
    // Fields 14 and 15 (utime, stime) are 1234 and 56.
    const stat = "4242 (redis-server (x) 1) S 1 4242 4242 0 -1 4194560 1630 0 0 0 1234 56 0 0 20 0 5 0 100 1 2";
    expect(cpuTicksFromProcStat(stat)).toBe(1290);
  });

  it("refuses what is not a stat line", () => {
    expect(() => cpuTicksFromProcStat("no such process")).toThrow(/expected "pid \(comm\) state/);
    expect(() => cpuTicksFromProcStat("1 (x) S 1 2")).toThrow(/expected whole utime and stime/);
  });
});

describe("arrivalSchedule", () => {
  it("hands out arrivals at the rate, each once, with its own due time when several are late", () => {
    const schedule = arrivalSchedule({ startAt: 1_000, ratePerSecond: 250, count: 5 });
    expect(schedule.nextDueAt()).toBe(1_000);
    expect(schedule.takeDue(999)).toEqual([]);
    expect(schedule.takeDue(1_000)).toEqual([{ index: 0, dueAt: 1_000 }]);
    expect(schedule.takeDue(1_000)).toEqual([]);
    // A timer 9 ms late: the three arrivals due meanwhile come together, each with its own time.
    expect(schedule.takeDue(1_013)).toEqual([
      { index: 1, dueAt: 1_004 },
      { index: 2, dueAt: 1_008 },
      { index: 3, dueAt: 1_012 },
    ]);
    expect(schedule.nextDueAt()).toBe(1_016);
    expect(schedule.takeDue(10_000)).toEqual([{ index: 4, dueAt: 1_016 }]);
    expect(schedule.nextDueAt()).toBeNull();
  });

  it("refuses a rate or count that cannot make a schedule", () => {
    expect(() => arrivalSchedule({ startAt: 0, ratePerSecond: 0, count: 1 })).toThrow(/positive rate, got 0/);
    expect(() => arrivalSchedule({ startAt: 0, ratePerSecond: 1, count: 1.5 })).toThrow(/whole count, got 1.5/);
  });
});
