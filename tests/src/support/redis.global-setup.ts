import type { TestProject } from "vitest/node";
import { redisServerAvailable, startRedisServer } from "./redis-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's private Redis, or null where redis-server is missing (outside CI). */
    redisUrl: string | null;
  }
}

/** One private redis-server for the whole run; tests isolate themselves by key prefix. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!redisServerAvailable()) {
    project.provide("redisUrl", null);
    return async () => undefined;
  }
  const redis = await startRedisServer();
  project.provide("redisUrl", redis.url);
  return () => redis.stop();
}
