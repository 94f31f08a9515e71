import {
  DESKTOP_SECRET_BYTES,
  isLoginExpiredAt,
  LOGIN_ID_BYTES,
  REDEEM_WINDOW_MS,
  USER_CODE_ALPHABET,
  USER_CODE_LENGTH,
  type DesktopKey,
  type DesktopProofUse,
} from "@countersign/shared";
import { AppError } from "../app-error.js";
import { verifyDesktopProof } from "./desktop-proof.js";
import type { Clock } from "../clock.js";
import { randomString, randomToken, type Random } from "../random.js";
import type { NewSession, SessionService } from "../session/session.service.js";
import type {
  ClientContext,
  LoginApp,
  LoginRequestRecord,
  OidcRequestLink,
  PushDetails,
  Store,
} from "../store/store.js";
import { hashSecret, secretMatchesHash } from "../tokens.js";
import type { LoginRequestEvents } from "./login-request.events.js";
import { createExpiryScheduler } from "./login-request.expiry.js";
import {
  createLoginRequestTransitions,
  notFoundError,
  type LoginRequestTransitions,
} from "./login-request.transitions.js";
import { qrStepAt, type QrTokenSigner } from "./qr-token.js";

/** How long a finished request stays readable, so late pages learn its outcome. */
const RETAIN_AFTER_EXPIRY_MS = 10 * 60_000;
/** A clash of ids or user codes is rare (30^8 codes); a few tries always find a free one. */
const MAX_CREATE_ATTEMPTS = 5;

/** One frame of a request's changing QR (see qr-token.ts): the token of one time step. */
export interface QrFrameToken {
  step: number;
  token: string;
}

/** The desktop's side of a sign-in request: create, watch, cancel, redeem. */
export interface LoginRequestService {
  /** Every change of a request goes through here (the phone's side and push-login/ too). */
  transitions: LoginRequestTransitions;
  createLoginRequest(options: {
    desktop: ClientContext;
    /** The public half of the page's key: watching and redeeming need proofs made with it. */
    desktopKey: DesktopKey;
    push?: PushDetails;
    /** The app the person signs in to, named on the phone (OpenID Connect). */
    app?: LoginApp;
  }): Promise<{
    request: LoginRequestRecord;
    desktopSecret: string;
    /** The QR's first frame; the socket that watches the request gets the next ones. */
    qrFrame: QrFrameToken;
  }>;
  /** The QR frame of the current time step: what a desktop draws now. Derived, not stored. */
  currentQrFrame(id: string): QrFrameToken;
  /**
   * The request that stands for an OpenID request no desktop will redeem (a device code, a CIBA
   * request), under an id derived from it: made by the first caller, found by every later one,
   * so two phones opening one device code open the same request and only one can decide it.
   * Nobody holds its desktop secret. `capability` is what a phone that opened it acts with.
   */
  createOrFindLinked(options: {
    id: string;
    desktop: ClientContext;
    app: LoginApp;
    oidc: OidcRequestLink;
    expiresAt: number;
    push?: PushDetails;
  }): Promise<{ request: LoginRequestRecord; capability: string; created: boolean }>;
  /** The request, if `desktopSecret` is the one it was created with; re-arms its expiry here. */
  getForDesktop(options: {
    id: string;
    desktopSecret: string;
    proof: string;
    /**
     * Runs once the page is proven and before its state is read (a watching socket joins the
     * request's rooms here): a change racing it is then either in the answer or heard after it.
     * Given, the request is read again after it; omitted (the default), the proven read is the answer.
     */
    beforeRead?: (proven: LoginRequestRecord) => Promise<void>;
  }): Promise<LoginRequestRecord>;
  cancel(options: { id: string; desktopSecret: string }): Promise<LoginRequestRecord>;
  redeem(options: { id: string; desktopSecret: string; proof: string; desktop: ClientContext }): Promise<{
    request: LoginRequestRecord;
    session: NewSession;
  }>;
  /** Writes `expired` if the request's time is up; safe to call any number of times. */
  expireIfDue(id: string): Promise<LoginRequestRecord | null>;
  close(): void;
}

/** A new pending request; `expiresAt` bounds how long it is retained too. */
function newRecordWith(
  random: Random,
  options: {
    id: string;
    desktopSecret: string;
    desktop: ClientContext;
    now: number;
    expiresAt: number;
    push: PushDetails | null;
    app: LoginApp | null;
    oidc: OidcRequestLink | null;
    desktopKey: DesktopKey | null;
  },
): LoginRequestRecord {
  return {
    id: options.id,
    status: "pending",
    version: 1,
    createdAt: options.now,
    expiresAt: options.expiresAt,
    retainUntil: options.expiresAt + REDEEM_WINDOW_MS + RETAIN_AFTER_EXPIRY_MS,
    desktopSecretHash: hashSecret(options.desktopSecret),
    userCode: randomString(random, { alphabet: USER_CODE_ALPHABET, length: USER_CODE_LENGTH }),
    desktop: options.desktop,
    scannedAt: null,
    scannedBy: null,
    decidedAt: null,
    userId: null,
    credentialId: null,
    approver: null,
    approvedAt: null,
    redeemBy: null,
    denyReason: null,
    push: options.push,
    app: options.app,
    oidc: options.oidc,
    proximity: null,
    // Only a computer's own screen can show it: not for push (its number) nor device or CIBA.
    checkNumber: options.push === null && options.oidc === null ? 10 + randomDigitsBelow(random, 90) : null,
    desktopKey: options.desktopKey,
  };
}

/** A uniform whole number 0 ≤ n < bound (bound ≤ 256), by rejection sampling. */
function randomDigitsBelow(random: Random, bound: number): number {
  const limit = 256 - (256 % bound);
  for (;;) {
    const byte = random.bytes(1)[0]!;
    if (byte < limit) return byte % bound;
  }
}

export function createLoginRequestService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  qrTokens: QrTokenSigner;
  sessions: SessionService;
  events: LoginRequestEvents;
  loginTtlMs: number;
}): LoginRequestService {
  const { store, clock, random } = deps;
  const transitions = createLoginRequestTransitions({ store, clock, events: deps.events });
  const expiry = createExpiryScheduler({ clock, events: deps.events, expireIfDue: transitions.expireIfDue });
  const newRecord = (options: Parameters<typeof newRecordWith>[1]): LoginRequestRecord =>
    newRecordWith(random, options);
  const currentQrFrame = (id: string): QrFrameToken => {
    const step = qrStepAt(clock.now());
    return { step, token: deps.qrTokens.frameFor({ loginRequestId: id, step }) };
  };

  async function loadForDesktop(id: string, desktopSecret: string): Promise<LoginRequestRecord> {
    const request = await store.getLoginRequest(id);
    // A wrong secret looks exactly like an unknown id: no oracle for guessing either.
    if (request === null || !secretMatchesHash(desktopSecret, request.desktopSecretHash)) throw notFoundError();
    return request;
  }

  /** The request, if the secret is its own and `proof` was made with its page's key for `use`. */
  async function loadForProvenDesktop(
    options: { id: string; desktopSecret: string; proof: string },
    use: DesktopProofUse,
  ): Promise<LoginRequestRecord> {
    const request = await loadForDesktop(options.id, options.desktopSecret);
    // The secret alone, copied elsewhere, does nothing: the key never left the page that made it.
    const proven =
      request.desktopKey !== null &&
      (await verifyDesktopProof({
        proof: options.proof,
        key: request.desktopKey,
        id: request.id,
        use,
        now: clock.now(),
      }));
    if (!proven) throw notFoundError();
    return request;
  }

  return {
    transitions,

    async createLoginRequest({ desktop, desktopKey, push, app }) {
      for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt += 1) {
        const now = clock.now();
        const desktopSecret = randomToken(random, DESKTOP_SECRET_BYTES);
        const request = newRecord({
          id: randomToken(random, LOGIN_ID_BYTES),
          desktopSecret,
          desktop,
          now,
          expiresAt: now + deps.loginTtlMs,
          push: push ?? null,
          app: app ?? null,
          oidc: null,
          desktopKey,
        });
        if ((await transitions.create(request)) === "conflict") continue;
        return { request, desktopSecret, qrFrame: currentQrFrame(request.id) };
      }
      throw new Error("Could not allocate a unique login request id and user code.");
    },

    async createOrFindLinked({ id, desktop, app, oidc, expiresAt, push }) {
      if (!Number.isFinite(expiresAt)) throw new TypeError(`expiresAt must be a time, got ${String(expiresAt)}`);
      const capability = deps.qrTokens.capabilityFor({ loginRequestId: id });
      for (let attempt = 0; attempt < MAX_CREATE_ATTEMPTS; attempt += 1) {
        const existing = await store.getLoginRequest(id);
        if (existing !== null) return { request: existing, capability, created: false };
        const request = newRecord({
          id,
          // Random and thrown away: no desktop redeems this request.
          desktopSecret: randomToken(random, DESKTOP_SECRET_BYTES),
          desktop,
          now: clock.now(),
          expiresAt,
          push: push ?? null,
          app,
          oidc,
          desktopKey: null,
        });
        // A conflict is another caller creating it first, or (rarely) a clash of user codes.
        if ((await transitions.create(request)) === "created") return { request, capability, created: true };
      }
      throw new Error("Could not create or find the linked login request.");
    },

    currentQrFrame,

    async getForDesktop({ id, desktopSecret, proof, beforeRead }) {
      const proven = await loadForProvenDesktop({ id, desktopSecret, proof }, "watch");
      let request = proven;
      if (beforeRead !== undefined) {
        await beforeRead(proven);
        // The secret and key never change, so this read needs no second proof: only the state moved.
        const fresh = await store.getLoginRequest(id);
        if (fresh === null) throw notFoundError();
        request = fresh;
      }
      // Only a request whose time is up needs the write (and the re-read behind it).
      const current = isLoginExpiredAt(request, clock.now())
        ? ((await transitions.expireIfDue(id)) ?? request)
        : request;
      expiry.watch(current);
      return current;
    },

    async cancel({ id, desktopSecret }) {
      return transitions.apply({ request: await loadForDesktop(id, desktopSecret), event: "cancel" });
    },

    async redeem({ id, desktopSecret, proof, desktop }) {
      const made: { session: NewSession | null } = { session: null };
      const request = await transitions.apply({
        request: await loadForProvenDesktop({ id, desktopSecret, proof }, "redeem"),
        event: "redeem",
        // The new desktop session is written in the same atomic step as the status.
        commit: async (current, next) => {
          if (current.userId === null || current.credentialId === null || current.approver === null) {
            throw new Error(`Approved login request ${current.id} has no approver.`);
          }
          if ((await store.getCredential(current.credentialId)) === null) throw passkeyRemovedError();
          const prepared = deps.sessions.prepareSession({
            kind: "desktop",
            userId: current.userId,
            context: desktop,
            source: {
              kind: "login_request",
              loginRequestId: current.id,
              credentialId: current.credentialId,
              approver: current.approver,
              approvedAt: current.approvedAt ?? clock.now(),
            },
          });
          const written = await store.redeemLoginRequest({
            expectedVersion: current.version,
            next,
            session: prepared.record,
          });
          if (written) made.session = prepared;
          return written;
        },
      });
      const { session } = made;
      if (session === null) throw new Error(`Redeemed login request ${request.id} without a session.`);
      // A session lives no longer than the passkey that made it. Removing a passkey ends the
      // sessions it made so far; one written just after that listing is caught here instead.
      if ((await store.getCredential(session.record.source.credentialId)) === null) {
        await deps.sessions.endSessions({ sessions: [session.record], reason: "revoked" });
        throw passkeyRemovedError();
      }
      return { request, session };
    },

    expireIfDue: transitions.expireIfDue,

    close() {
      expiry.close();
    },
  };
}

function passkeyRemovedError(): AppError {
  return new AppError("UNKNOWN_CREDENTIAL", "The passkey that approved this sign-in was removed. Sign in again.");
}
