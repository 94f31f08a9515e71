export { createApp, type App, type AppDeps } from "./app.js";
export type { Deployment } from "./deployment.js";
export { AppError } from "./app-error.js";
export { systemClock, type Clock, type TimerHandle } from "./clock.js";
export { ConfigError, loadConfig, type Config } from "./config.js";
export { loadGeoLocator, LOCATE_NOWHERE, type GeoLocation, type GeoLocator } from "./context/geo.js";
export { DEFAULT_RATE_LIMITS, type RateLimits, type RateLimitPolicies } from "./rate-limit/rate-limits.js";
export { createMemoryRateLimits } from "./rate-limit/rate-limits.memory.js";
export { createRedisRateLimits } from "./rate-limit/rate-limits.redis.js";
export { createLogger } from "./logger.js";
export { loadCookieKeys, loadSigningKeys } from "./oidc/oidc.keys.js";
export { cryptoRandom, type Random } from "./random.js";
export { createMemoryStore } from "./store/memory.store.js";
export { createMemoryDeployment } from "./store/memory.deployment.js";
export type * from "./store/store.js";
export { ACTIVITY_LIMIT } from "./store/store.js";
export { createRedisStore } from "./store/redis.store.js";
export {
  createRedisClient,
  createRedisClusterClient,
  isRedisUnavailable,
  type RedisClient,
  type RedisConnection,
} from "./redis/redis.client.js";
export { connectRedisDeployment } from "./redis/redis.deployment.js";
export { prepareOidc, type OidcSetup } from "./oidc/oidc.setup.js";
export { createOidcAdapterFactory, DEFAULT_OIDC_GRACE_SECONDS, type OidcStorage } from "./oidc/oidc.adapter.js";
export { createMemoryOidcStorage } from "./oidc/oidc.storage.memory.js";
export { createRedisOidcStorage } from "./oidc/oidc.storage.redis.js";
export { pushTagOf } from "./web-push/web-push.message.js";
