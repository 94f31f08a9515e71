import type { DenyReason, SessionKind } from "@countersign/shared";
import type { Logger } from "pino";
import type { RequestContext, RequestScope } from "./request-scope.js";

/**
 * The security events an operator may have to answer for later ("who approved this sign-in, from
 * where?"). Only public ids: user ids, login request ids, session ids and passkey (credential)
 * ids name things without granting anything. Never a token, secret, user code or username.
 */
export type AuditEvent =
  | { event: "login.approved"; userId: string | null; loginRequestId: string; method: SignInMethod }
  | {
      event: "login.denied" | "login.fraud_reported";
      userId: string | null;
      loginRequestId: string;
      method: SignInMethod;
      reason: DenyReason | null;
    }
  | { event: "login.redeemed"; userId: string | null; loginRequestId: string; method: SignInMethod }
  | {
      event: "session.signed_out" | "session.revoked" | "session.replaced" | "session.expired";
      userId: string;
      sessionId: string;
      kind: SessionKind;
    }
  | { event: "account.computers_signed_out"; userId: string; count: number }
  | { event: "account.enrolled"; userId: string; passkeyId: string }
  | { event: "passkey.added"; userId: string; passkeyId: string; viaLink: boolean }
  | { event: "passkey.removed"; userId: string; passkeyId: string }
  | { event: "sign_in.passkey"; userId: string; sessionId: string; kind: SessionKind }
  | { event: "rate_limited"; action: string }
  | { event: "origin.refused"; transport: "http" | "socket" };

/** How a sign-in happened: a login request's kind, or a passkey alone. */
export type SignInMethod = "qr" | "push" | "passkey" | "device" | "ciba";

/**
 * Where features report what has no event of its own (a passkey removed, an enrolment). The
 * features depend on this interface only; the app decides where the lines go.
 */
export interface AuditTrail {
  /** `context`: the request it happened in, where no request scope is running (a socket's handshake). */
  record(event: AuditEvent, options?: { context?: RequestContext }): void;
}

/** Records nothing: for services built without an audit trail (unit tests). */
export const NO_AUDIT: AuditTrail = { record: () => undefined };

/**
 * One structured line per event on its own child logger (`audit: true`, so a log shipper can
 * route them apart), with the request it happened in: its id, the client's address and label.
 * `also` hears every event too (the metrics count some of them).
 */
export function createAuditTrail(options: {
  logger: Logger;
  scope: RequestScope;
  also?: (event: AuditEvent) => void;
}): AuditTrail {
  // At info even when LOG_LEVEL asks for warnings only: quieting the request log must not
  // silence the audit trail. "silent" still silences everything (tests).
  const { logger } = options;
  const level = logger.level === "silent" || logger.levelVal <= logger.levels.values.info! ? logger.level : "info";
  const log = logger.child({ audit: true }, { level });
  return {
    record(event, recordOptions) {
      options.also?.(event);
      const request = recordOptions?.context ?? options.scope.current();
      const where =
        request === undefined ? { requestId: null } : { requestId: request.requestId, ...clientOf(request) };
      log.info({ ...event, ...where }, "audit");
    },
  };
}

function clientOf(request: RequestContext): { ip: string | null; client: string } {
  const { ip, label } = request.client();
  return { ip, client: label };
}
