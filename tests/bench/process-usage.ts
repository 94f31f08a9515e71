/**
 * What a benchmarked process reports about itself (process-probe.mjs) and the figures drawn from
 * two such reports. CPU time is the process's own, user plus system, so it holds on a busy
 * machine where wall-clock rates do not.
 */

export interface ProcessUsage {
  /** process.cpuUsage(): microseconds since the process started. */
  cpu: { user: number; system: number };
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  /** Wall-clock time of the reading, ms since the epoch (fractional). */
  at: number;
}

export interface CpuPerOperation {
  operations: number;
  wallSeconds: number;
  /** The process's CPU time between the readings, ms. */
  cpuMs: number;
  /** cpuMs / operations. */
  msPerOperation: number;
  /** Operations per wall-clock second. */
  perSecond: number;
  /** CPU time over wall time: 1.0 is one core busy all along (a Node main thread's ceiling, nearly). */
  busy: number;
}

/** CPU per operation between two readings of the same process, `operations` done in between. */
export function cpuPerOperation(options: {
  before: ProcessUsage;
  after: ProcessUsage;
  operations: number;
}): CpuPerOperation {
  const { before, after, operations } = options;
  if (!Number.isInteger(operations) || operations < 1) {
    throw new Error(`cpuPerOperation: expected a positive whole number of operations, got ${operations}`);
  }
  const wallMs = after.at - before.at;
  if (!(wallMs > 0)) throw new Error(`cpuPerOperation: expected the second reading after the first, got ${wallMs} ms`);
  const cpuMicros = after.cpu.user + after.cpu.system - (before.cpu.user + before.cpu.system);
  if (cpuMicros < 0) throw new Error(`cpuPerOperation: CPU time went backwards (${cpuMicros} µs): two processes?`);
  const cpuMs = cpuMicros / 1000;
  return {
    operations,
    wallSeconds: wallMs / 1000,
    cpuMs,
    msPerOperation: cpuMs / operations,
    perSecond: operations / (wallMs / 1000),
    busy: cpuMs / wallMs,
  };
}

export interface MemoryPerItem {
  items: number;
  heapBytesPerItem: number;
  rssBytesPerItem: number;
  before: { heapUsed: number; rss: number };
  after: { heapUsed: number; rss: number };
}

/** Heap and RSS growth per item between a settled reading without the items and one with them. */
export function memoryPerItem(options: { before: ProcessUsage; after: ProcessUsage; items: number }): MemoryPerItem {
  const { before, after, items } = options;
  if (!Number.isInteger(items) || items < 1) {
    throw new Error(`memoryPerItem: expected a positive whole number of items, got ${items}`);
  }
  return {
    items,
    heapBytesPerItem: (after.memory.heapUsed - before.memory.heapUsed) / items,
    rssBytesPerItem: (after.memory.rss - before.memory.rss) / items,
    before: { heapUsed: before.memory.heapUsed, rss: before.memory.rss },
    after: { heapUsed: after.memory.heapUsed, rss: after.memory.rss },
  };
}

/**
 * CPU time of any process from /proc/<pid>/stat (utime + stime, fields 14 and 15), in clock ticks.
 * For processes that cannot report themselves, such as redis-server. The command name (field 2)
 * may hold spaces and parentheses, so fields are counted from its closing parenthesis.
 */
export function cpuTicksFromProcStat(stat: string): number {
  const close = stat.lastIndexOf(")");
  if (close < 0) throw new Error(`cpuTicksFromProcStat: expected "pid (comm) state …", got "${stat.slice(0, 60)}"`);
  // After ") " come field 3 (state) onwards: utime is field 14, so index 11 here.
  const fields = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime)) {
    throw new Error(`cpuTicksFromProcStat: expected whole utime and stime, got "${fields[11]}" and "${fields[12]}"`);
  }
  return utime + stime;
}
