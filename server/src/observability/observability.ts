import type { Logger } from "pino";
import type { EventChannel } from "../events/event-channel.js";
import type { LoginRequestEvents } from "../login-request/login-request.events.js";
import type { PushRequested } from "../push-login/push-login.service.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import type { SessionEvents } from "../session/session.events.js";
import type { Store } from "../store/store.js";
import { auditAnnouncedEvents } from "./audit.subscriptions.js";
import { createAuditTrail, type AuditTrail } from "./audit-trail.js";
import { auditRateLimits } from "./audited-rate-limits.js";
import { measureStore } from "./measured-store.js";
import { createMetrics, type Metrics, type PushDeliveryOutcome } from "./metrics.js";
import { countSignIns, timeApprovalBroadcasts } from "./metrics.subscriptions.js";
import { createRequestScope, type RequestScope } from "./request-scope.js";

/** The audit trail, the request scope it reads, and the metrics when they are on. */
export interface Observability {
  scope: RequestScope;
  audit: AuditTrail;
  /** Null when metrics are off (no METRICS_TOKEN or METRICS_PORT): then nothing is measured. */
  metrics: Metrics | null;
  /** The store, timed and counted when metrics are on. */
  measure(store: Store): Store;
  /** The limits, with refusals on the audit trail. */
  auditLimits(rateLimits: RateLimits): RateLimits;
  /** Subscribe before every other listener of the channel (services.ts calls it). */
  listenFirst(events: { logins: LoginRequestEvents }): void;
  /** Subscribe after the realtime layer's broadcasts. */
  listenAfterBroadcasts(events: {
    logins: LoginRequestEvents;
    sessions: SessionEvents;
    pushes: EventChannel<PushRequested>;
  }): void;
  /** The web push notifier's hook: one call per send. */
  countWebPush(outcome: PushDeliveryOutcome): void;
}

export function createObservability(options: {
  logger: Logger;
  metricsEnabled: boolean;
  openSockets: () => number;
}): Observability {
  const scope = createRequestScope();
  const metrics = options.metricsEnabled ? createMetrics({ openSockets: options.openSockets }) : null;
  const audit = createAuditTrail({
    logger: options.logger,
    scope,
    ...(metrics === null ? {} : { also: (event) => metrics.countAuditEvent(event) }),
  });
  const approvals = metrics === null ? null : timeApprovalBroadcasts({ metrics });
  return {
    scope,
    audit,
    metrics,
    measure: (store) => (metrics === null ? store : measureStore(store, metrics)),
    auditLimits: (rateLimits) => auditRateLimits(rateLimits, audit),
    listenFirst: (events) => approvals?.startTiming(events.logins),
    listenAfterBroadcasts(events) {
      approvals?.stopTiming(events.logins);
      auditAnnouncedEvents({ audit, loginEvents: events.logins, sessionEvents: events.sessions });
      if (metrics !== null) countSignIns({ metrics, loginEvents: events.logins, pushEvents: events.pushes });
    },
    countWebPush: (outcome) => metrics?.pushDeliveries.inc({ channel: "web_push", outcome }),
  };
}
