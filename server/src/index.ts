export { createApp, type App, type AppDeps } from "./app.js";
export { AppError } from "./app-error.js";
export { systemClock, type Clock, type TimerHandle } from "./clock.js";
export { ConfigError, loadConfig, type Config } from "./config.js";
export {
  createMemoryRateLimits,
  createRedisRateLimits,
  DEFAULT_RATE_LIMITS,
  type RateLimits,
  type RateLimitPolicies,
} from "./http/rate-limits.js";
export { createLogger } from "./logger.js";
export { cryptoRandom, type Random } from "./random.js";
export { createMemoryStore } from "./store/memory.store.js";
export type * from "./store/store.js";
export { ACTIVITY_LIMIT } from "./store/store.js";
export { createRedisStore } from "./store/redis.store.js";
export { createRedisClient, isRedisUnavailable } from "./redis/redis.client.js";
export { connectRedisDeployment, type RedisDeployment } from "./redis/redis.deployment.js";
