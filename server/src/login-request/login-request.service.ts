import {
  DESKTOP_SECRET_BYTES,
  isLoginExpiredAt,
  isTerminalStatus,
  LOGIN_ID_BYTES,
  REDEEM_WINDOW_MS,
  transitionLoginStatus,
  USER_CODE_ALPHABET,
  USER_CODE_LENGTH,
  type AuthenticationResponse,
  type LoginEvent,
  type OpenApprovalBody,
  type UserView,
} from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock, TimerHandle } from "../clock.js";
import { randomString, randomToken, type Random } from "../random.js";
import type { RealtimePublisher } from "../realtime/realtime.publisher.js";
import type { SessionService, NewSession } from "../session/session.service.js";
import type { ClientContext, LoginRequestRecord, PushDetails, Store } from "../store/store.js";
import { hashSecret, secretMatchesHash } from "../tokens.js";
import type { CeremonyService } from "../webauthn/ceremony.service.js";
import { verifyPasskeyAssertion } from "../webauthn/passkey-assertion.js";
import { buildAuthenticationOptions, type RelyingParty } from "../webauthn/relying-party.js";
import type { QrTokenSigner } from "./qr-token.js";

/** How long a finished request stays readable, so late pages learn its outcome. */
const RETAIN_AFTER_EXPIRY_MS = 10 * 60_000;
/**
 * Passkey prompts one request may have started within a ceremony's lifetime. A person needs one
 * or two (a retry after a cancelled prompt); the cap keeps an anonymous holder of a QR token
 * from storing challenges without bound.
 */
const MAX_APPROVAL_CEREMONIES_PER_REQUEST = 10;
/** A compare-and-set loses only to another writer; a few tries settle any real race. */
const MAX_CAS_ATTEMPTS = 5;

export interface ApprovalCeremonyStart {
  ceremonyId: string;
  options: Record<string, unknown>;
}

/**
 * How a phone proves it may act on a request: the QR token it scanned (or got for a typed
 * code), or, for a push request, being signed in as the person it was sent to.
 */
export type PhoneProof = { kind: "qr"; qrToken: string } | { kind: "push"; userId: string };

export interface LoginRequestService {
  createLoginRequest(options: { desktop: ClientContext; push?: PushDetails }): Promise<{
    request: LoginRequestRecord;
    desktopSecret: string;
    qrToken: string;
  }>;
  /** The request, if `desktopSecret` is the one it was created with. */
  getForDesktop(options: { id: string; desktopSecret: string }): Promise<LoginRequestRecord>;
  cancel(options: { id: string; desktopSecret: string }): Promise<LoginRequestRecord>;
  redeem(options: { id: string; desktopSecret: string; desktop: ClientContext }): Promise<{
    request: LoginRequestRecord;
    session: NewSession;
  }>;
  /** The phone opened the QR link or typed the code: marks it scanned and starts an approval. */
  openApproval(options: { body: OpenApprovalBody; phone: ClientContext }): Promise<{
    request: LoginRequestRecord;
    qrToken: string;
    approval: ApprovalCeremonyStart;
  }>;
  startApproval(options: { id: string; proof: PhoneProof }): Promise<ApprovalCeremonyStart>;
  approve(options: {
    id: string;
    proof: PhoneProof;
    ceremonyId: string;
    credential: AuthenticationResponse;
    phone: ClientContext;
  }): Promise<{ request: LoginRequestRecord; user: UserView }>;
  deny(options: {
    id: string;
    proof: PhoneProof;
    reason: "not_me" | "cancelled";
    phone: ClientContext;
    approverUserId: string | null;
  }): Promise<LoginRequestRecord>;
  /**
   * The phone picked a number for a push request: the right one opens it for the passkey, a
   * wrong one denies it (number matching, DESIGN §3.3).
   */
  matchPush(options: {
    id: string;
    userId: string;
    choice: number;
    phone: ClientContext;
  }): Promise<
    | { matched: true; request: LoginRequestRecord; approval: ApprovalCeremonyStart }
    | { matched: false; request: LoginRequestRecord }
  >;
  /** A newer push request for the same person replaced this one. */
  supersede(id: string): Promise<void>;
  /** Writes `expired` if the request's time is up; safe to call any number of times. */
  expireIfDue(id: string): Promise<LoginRequestRecord | null>;
  /** Makes sure this process will announce the request's expiry when its time comes. */
  watchExpiry(request: LoginRequestRecord): void;
  close(): void;
}

export function createLoginRequestService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  rp: RelyingParty;
  qrTokens: QrTokenSigner;
  ceremonies: CeremonyService;
  sessions: SessionService;
  publisher: RealtimePublisher;
  loginTtlMs: number;
  /** How long pushes to a person pause after "This wasn't me". */
  pushPauseMs: number;
}): LoginRequestService {
  const { store, clock, random } = deps;
  const expiryTimers = new Map<string, TimerHandle>();

  function watchExpiry(request: LoginRequestRecord): void {
    expiryTimers.get(request.id)?.cancel();
    expiryTimers.delete(request.id);
    if (isTerminalStatus(request.status)) return;
    const deadline = request.status === "approved" && request.redeemBy !== null ? request.redeemBy : request.expiresAt;
    const timer = clock.schedule(() => {
      expiryTimers.delete(request.id);
      // A timer has no caller to report to; a store outage here is retried by the next read.
      expireIfDue(request.id).catch(() => undefined);
    }, deadline - clock.now());
    expiryTimers.set(request.id, timer);
  }

  /** Stores `next` over `current`, announces it, and re-arms its expiry. */
  async function write(current: LoginRequestRecord, next: LoginRequestRecord): Promise<boolean> {
    const written = await store.compareAndSetLoginRequest({ expectedVersion: current.version, next });
    if (written) announce(next);
    return written;
  }

  function announce(request: LoginRequestRecord): void {
    deps.publisher.loginChanged(request);
    watchExpiry(request);
  }

  function expiredVersionOf(request: LoginRequestRecord): LoginRequestRecord {
    return { ...request, status: "expired", version: request.version + 1, decidedAt: clock.now() };
  }

  async function expireIfDue(id: string): Promise<LoginRequestRecord | null> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
      const request = await store.getLoginRequest(id);
      if (request === null || !isLoginExpiredAt(request, clock.now())) return request;
      const next = expiredVersionOf(request);
      if (await write(request, next)) return next;
    }
    return store.getLoginRequest(id);
  }

  /**
   * Applies `event` as a compare-and-set, re-reading and re-deciding when another writer got
   * there first. Whatever the interleaving, each request takes exactly one path through the
   * state machine; the loser of a race gets a 409 (or 410 if time ran out).
   */
  async function applyEvent(
    initial: LoginRequestRecord,
    event: LoginEvent,
    change: (request: LoginRequestRecord) => Partial<LoginRequestRecord>,
  ): Promise<LoginRequestRecord> {
    let request = initial;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
      if (isLoginExpiredAt(request, clock.now())) {
        const expired = expiredVersionOf(request);
        if (await write(request, expired)) throw expiredError();
      } else {
        const result = transitionLoginStatus(request.status, event);
        if (!result.ok) throw conflictError(request);
        const next = { ...request, ...change(request), status: result.to, version: request.version + 1 };
        if (await write(request, next)) return next;
      }
      const fresh = await store.getLoginRequest(request.id);
      if (fresh === null) throw notFoundError();
      request = fresh;
    }
    throw new AppError("LOGIN_CONFLICT", "This sign-in request is changing too fast; try again.");
  }

  async function loadForDesktop(id: string, desktopSecret: string): Promise<LoginRequestRecord> {
    const request = await store.getLoginRequest(id);
    // A wrong secret looks exactly like an unknown id: no oracle for guessing either.
    if (request === null || !secretMatchesHash(desktopSecret, request.desktopSecretHash)) throw notFoundError();
    return request;
  }

  async function loadForPhone(id: string, proof: PhoneProof): Promise<LoginRequestRecord> {
    if (proof.kind === "qr" && !deps.qrTokens.verify({ loginRequestId: id, token: proof.qrToken })) {
      throw notFoundError();
    }
    const request = await store.getLoginRequest(id);
    if (request === null) throw notFoundError();
    // A push request is only for the person it was sent to, and never opened by a QR token.
    if ((proof.kind === "push") !== (request.push !== null)) throw notFoundError();
    if (proof.kind === "push" && request.push?.userId !== proof.userId) throw notFoundError();
    return request;
  }

  async function startApprovalFor(request: LoginRequestRecord): Promise<ApprovalCeremonyStart> {
    const ceremony = await deps.ceremonies.startCappedCeremony({
      details: { kind: "approval", loginRequestId: request.id },
      group: `approval:${request.id}`,
      maxLive: MAX_APPROVAL_CEREMONIES_PER_REQUEST,
    });
    const options = await buildAuthenticationOptions({ rp: deps.rp, challenge: ceremony.challenge });
    return { ceremonyId: ceremony.id, options: { ...options } };
  }

  /** Refuses early, before a passkey prompt, when the request can no longer be approved. */
  async function ensureCanStillApprove(request: LoginRequestRecord): Promise<void> {
    if (isLoginExpiredAt(request, clock.now())) {
      await expireIfDue(request.id);
      throw expiredError();
    }
    if (!transitionLoginStatus(request.status, "approve").ok) throw conflictError(request);
  }

  return {
    async createLoginRequest({ desktop, push }) {
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
        const now = clock.now();
        const desktopSecret = randomToken(random, DESKTOP_SECRET_BYTES);
        const expiresAt = now + deps.loginTtlMs;
        const request: LoginRequestRecord = {
          id: randomToken(random, LOGIN_ID_BYTES),
          status: "pending",
          version: 1,
          createdAt: now,
          expiresAt,
          retainUntil: expiresAt + REDEEM_WINDOW_MS + RETAIN_AFTER_EXPIRY_MS,
          desktopSecretHash: hashSecret(desktopSecret),
          userCode: randomString(random, { alphabet: USER_CODE_ALPHABET, length: USER_CODE_LENGTH }),
          desktop,
          scannedAt: null,
          scannedBy: null,
          decidedAt: null,
          userId: null,
          credentialId: null,
          approver: null,
          approvedAt: null,
          redeemBy: null,
          denyReason: null,
          push: push ?? null,
        };
        // A clash of user codes is rare (30^8 codes) but must never join two requests.
        if ((await store.createLoginRequest(request)) === "conflict") continue;
        watchExpiry(request);
        return { request, desktopSecret, qrToken: deps.qrTokens.tokenFor({ loginRequestId: request.id }) };
      }
      throw new Error("Could not allocate a unique login request id and user code.");
    },

    async getForDesktop({ id, desktopSecret }) {
      const request = await loadForDesktop(id, desktopSecret);
      watchExpiry(request);
      return (await expireIfDue(request.id)) ?? request;
    },

    async cancel({ id, desktopSecret }) {
      const request = await loadForDesktop(id, desktopSecret);
      return applyEvent(request, "cancel", () => ({ decidedAt: clock.now() }));
    },

    async redeem({ id, desktopSecret, desktop }) {
      let request = await loadForDesktop(id, desktopSecret);
      for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
        if (isLoginExpiredAt(request, clock.now())) {
          await expireIfDue(request.id);
          throw expiredError();
        }
        if (!transitionLoginStatus(request.status, "redeem").ok) throw conflictError(request);
        if (request.userId === null || request.credentialId === null || request.approver === null) {
          throw new Error(`Approved login request ${request.id} has no approver.`);
        }
        const session = deps.sessions.prepareSession({
          kind: "desktop",
          userId: request.userId,
          context: desktop,
          source: {
            kind: "login_request",
            loginRequestId: request.id,
            credentialId: request.credentialId,
            approver: request.approver,
            approvedAt: request.approvedAt ?? clock.now(),
          },
        });
        const next: LoginRequestRecord = { ...request, status: "redeemed", version: request.version + 1 };
        if (await store.redeemLoginRequest({ expectedVersion: request.version, next, session: session.record })) {
          announce(next);
          return { request: next, session };
        }
        const fresh = await store.getLoginRequest(id);
        if (fresh === null) throw notFoundError();
        request = fresh;
      }
      throw new AppError("LOGIN_CONFLICT", "This sign-in request is changing too fast; try again.");
    },

    async openApproval({ body, phone }) {
      let request: LoginRequestRecord;
      let qrToken: string;
      if ("userCode" in body) {
        const found = await store.findLoginRequestByUserCode(body.userCode);
        // A push request is for its person's signed-in phones only, never for a typed code.
        if (found === null || found.push !== null)
          throw new AppError("LOGIN_NOT_FOUND", "No sign-in request has this code. Check the code on the computer.");
        request = found;
        qrToken = deps.qrTokens.tokenFor({ loginRequestId: request.id });
      } else {
        request = await loadForPhone(body.id, { kind: "qr", qrToken: body.qrToken });
        qrToken = body.qrToken;
      }
      const scanned = await applyEvent(request, "scan", (current) => ({
        // The first phone to open it is the one the desktop is told about.
        scannedAt: current.scannedAt ?? clock.now(),
        scannedBy: current.scannedBy ?? phone,
      }));
      return { request: scanned, qrToken, approval: await startApprovalFor(scanned) };
    },

    async startApproval({ id, proof }) {
      const request = await loadForPhone(id, proof);
      await ensureCanStillApprove(request);
      return startApprovalFor(request);
    },

    async approve({ id, proof, ceremonyId, credential, phone }) {
      // Consumed first: whatever happens below, this challenge is spent (DESIGN §6).
      const ceremony = await deps.ceremonies.consumeCeremony({ id: ceremonyId, kind: "approval" });
      if (ceremony.loginRequestId !== id || clock.now() >= ceremony.expiresAt) {
        throw new AppError(
          "CEREMONY_NOT_FOUND",
          "This passkey prompt belongs to another request or expired; start again.",
        );
      }
      const request = await loadForPhone(id, proof);
      await ensureCanStillApprove(request);

      const { passkey, user } = await verifyPasskeyAssertion({
        store,
        clock,
        rp: deps.rp,
        challenge: ceremony.challenge,
        credential,
        // A push request is approved only with a passkey of the person it was sent to.
        requireUserId: request.push?.userId,
      });
      const now = clock.now();

      const approved = await applyEvent(request, "approve", () => ({
        decidedAt: now,
        approvedAt: now,
        redeemBy: now + REDEEM_WINDOW_MS,
        userId: user.id,
        credentialId: passkey.id,
        approver: phone,
      }));
      await store.appendActivity({
        userId: user.id,
        event: {
          at: now,
          kind: "login_approved",
          loginRequestId: id,
          context: approved.desktop,
          detail: passkey.label,
        },
      });
      return { request: approved, user: { id: user.id, username: user.username, displayName: user.displayName } };
    },

    async deny({ id, proof, reason, phone, approverUserId }) {
      const request = await loadForPhone(id, proof);
      const denied = await applyEvent(request, "deny", () => ({
        decidedAt: clock.now(),
        denyReason: reason,
        approver: phone,
      }));
      if (approverUserId !== null) {
        await store.appendActivity({
          userId: approverUserId,
          event: {
            at: clock.now(),
            kind: reason === "not_me" ? "fraud_reported" : "login_denied",
            loginRequestId: id,
            context: denied.desktop,
            detail: reason,
          },
        });
        // Against push fatigue: someone is trying; stop asking this person for a while.
        if (reason === "not_me" && deps.pushPauseMs > 0) {
          await store.pausePushes({ userId: approverUserId, until: clock.now() + deps.pushPauseMs });
        }
      }
      return denied;
    },

    async matchPush({ id, userId, choice, phone }) {
      const request = await loadForPhone(id, { kind: "push", userId });
      if (request.push?.matchNumber !== choice) {
        const denied = await applyEvent(request, "deny", () => ({
          decidedAt: clock.now(),
          denyReason: "number_mismatch",
          approver: phone,
        }));
        await store.appendActivity({
          userId,
          event: {
            at: clock.now(),
            kind: "login_denied",
            loginRequestId: id,
            context: denied.desktop,
            detail: "number_mismatch",
          },
        });
        return { matched: false, request: denied };
      }
      const scanned = await applyEvent(request, "scan", (current) => ({
        scannedAt: current.scannedAt ?? clock.now(),
        scannedBy: current.scannedBy ?? phone,
      }));
      return { matched: true, request: scanned, approval: await startApprovalFor(scanned) };
    },

    async supersede(id) {
      const request = await store.getLoginRequest(id);
      if (request === null || !transitionLoginStatus(request.status, "supersede").ok) return;
      // Losing a race here means the old request was decided or expired meanwhile: nothing to do.
      await applyEvent(request, "supersede", () => ({ decidedAt: clock.now() })).catch((error: unknown) => {
        if (!(error instanceof AppError)) throw error;
      });
    },

    expireIfDue,
    watchExpiry,

    close() {
      for (const timer of expiryTimers.values()) timer.cancel();
      expiryTimers.clear();
    },
  };
}

function notFoundError(): AppError {
  return new AppError("LOGIN_NOT_FOUND", "No such sign-in request, or it is not yours.");
}

function expiredError(): AppError {
  return new AppError("LOGIN_EXPIRED", "This sign-in request expired. Start a new one on the computer.");
}

function conflictError(request: LoginRequestRecord): AppError {
  if (request.status === "expired") return expiredError();
  return new AppError("LOGIN_CONFLICT", `This sign-in request is already ${request.status}.`);
}
