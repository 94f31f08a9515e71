import { recordLoginActivity } from "./account/account.activity.js";
import { createAccountService, type AccountService } from "./account/account.service.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { GeoLocator } from "./context/geo.js";
import { createProximityJudge } from "./context/proximity.js";
import { createEnrolmentService, type EnrolmentService } from "./enrolment/enrolment.service.js";
import { createEventChannel, type EventChannel } from "./events/event-channel.js";
import { createApprovalService, type ApprovalService } from "./login-request/approval.service.js";
import type { LoginRequestChanged, LoginRequestEvents } from "./login-request/login-request.events.js";
import { createLoginRequestService, type LoginRequestService } from "./login-request/login-request.service.js";
import { createQrTokenSigner } from "./login-request/qr-token.js";
import { NO_AUDIT, type AuditTrail } from "./observability/audit-trail.js";
import { createPasskeySignInService, type PasskeySignInService } from "./passkey-sign-in/passkey-sign-in.service.js";
import { createPushLoginService, type PushLoginService, type PushRequested } from "./push-login/push-login.service.js";
import type { Random } from "./random.js";
import type { RateLimits } from "./rate-limit/rate-limits.js";
import type { SessionEnded, SessionEvents } from "./session/session.events.js";
import { createSessionService, type SessionService } from "./session/session.service.js";
import type { Store } from "./store/store.js";
import { createCeremonyService } from "./webauthn/ceremony.service.js";

export interface Services {
  sessions: SessionService;
  logins: LoginRequestService;
  approvals: ApprovalService;
  enrolment: EnrolmentService;
  passkeySignIn: PasskeySignInService;
  account: AccountService;
  push: PushLoginService;
  /** What the features announce; the realtime layer subscribes. */
  events: {
    logins: LoginRequestEvents;
    sessions: SessionEvents;
    pushes: EventChannel<PushRequested>;
  };
}

/**
 * Every feature's service, wired to the store, the clock, randomness and each other's events.
 * No transport here: the routes and the socket server use these, never the other way round.
 */
export function createServices(deps: {
  config: Config;
  store: Store;
  clock: Clock;
  random: Random;
  rateLimits: RateLimits;
  /** Every process behind one origin shares it: QR tokens and unknown names' pseudonyms. */
  sharedKey: Uint8Array;
  /** Where addresses are (context/geo.ts), for how near a computer is to the phone approving it. */
  geo: GeoLocator;
  /** Where features report security events that have no event of their own; omitted, nowhere. */
  audit?: AuditTrail;
  /** Called with the channels before any feature subscribes: its listeners hear each event first. */
  listenFirst?: (events: Services["events"]) => void;
}): Services {
  const { config, store, clock, random, rateLimits } = deps;
  const audit = deps.audit ?? NO_AUDIT;
  const events = {
    logins: createEventChannel<LoginRequestChanged>(),
    sessions: createEventChannel<SessionEnded>(),
    pushes: createEventChannel<PushRequested>(),
  };
  deps.listenFirst?.(events);
  const rp = { id: config.rpId, name: config.rpName, origin: config.publicOrigin };
  const qrTokens = createQrTokenSigner({ key: deps.sharedKey });
  const judge = createProximityJudge({ geo: deps.geo, policy: config.proximity });
  const ceremonies = createCeremonyService({ store, clock, random });
  const sessions = createSessionService({
    store,
    clock,
    random,
    events: events.sessions,
    sessionTtlMs: config.sessionTtlSeconds * 1000,
    approverSessionTtlMs: config.approverSessionTtlSeconds * 1000,
  });
  const logins = createLoginRequestService({
    store,
    clock,
    random,
    qrTokens,
    sessions,
    events: events.logins,
    loginTtlMs: config.loginTtlSeconds * 1000,
  });
  const approvals = createApprovalService({
    store,
    clock,
    rp,
    qrTokens,
    ceremonies,
    transitions: logins.transitions,
    judge,
  });
  recordLoginActivity({ store, clock, loginEvents: events.logins });
  return {
    sessions,
    logins,
    approvals,
    enrolment: createEnrolmentService({ store, clock, random, rp, ceremonies, sessions, audit }),
    passkeySignIn: createPasskeySignInService({ store, clock, rp, ceremonies, sessions, audit }),
    account: createAccountService({ store, clock, sessions, audit }),
    push: createPushLoginService({
      store,
      clock,
      random,
      logins,
      approvals,
      loginEvents: events.logins,
      rateLimits,
      pushEvents: events.pushes,
      pauseMs: config.pushPauseMinutes * 60_000,
      pseudonymKey: deps.sharedKey,
      judge,
    }),
    events,
  };
}
