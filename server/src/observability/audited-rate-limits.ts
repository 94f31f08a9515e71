import { AppError } from "../app-error.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import type { AuditTrail } from "./audit-trail.js";

/**
 * The rate limits, with every refusal on the audit trail (and so in the metrics) by action,
 * whoever asked: a route, a socket, an app's polling. The key is left out: it can be a person's
 * id joined with a network, which says more than "who was refused" needs to.
 */
export function auditRateLimits(rateLimits: RateLimits, audit: AuditTrail): RateLimits {
  return {
    async consume(options) {
      try {
        await rateLimits.consume(options);
      } catch (error) {
        if (error instanceof AppError && error.code === "RATE_LIMITED") {
          audit.record({ event: "rate_limited", action: options.action });
        }
        throw error;
      }
    },
    async tryConsume(options) {
      const allowed = await rateLimits.tryConsume(options);
      if (!allowed) audit.record({ event: "rate_limited", action: options.action });
      return allowed;
    },
  };
}
