import { isLoginExpiredAt, REDEEM_WINDOW_MS, transitionLoginStatus } from "@countersign/shared";
import type { AuthenticationResponse, DenyReason, OpenApprovalBody, UserView } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import type { ProximityJudge } from "../context/proximity.js";
import type { ClientContext, LoginRequestRecord, Store } from "../store/store.js";
import type { CeremonyService } from "../webauthn/ceremony.service.js";
import { verifyPasskeyAssertion } from "../webauthn/passkey-assertion.js";
import { buildAuthenticationOptions, type RelyingParty } from "../webauthn/relying-party.js";
import {
  conflictError,
  expiredError,
  notFoundError,
  type LoginRequestTransitions,
} from "./login-request.transitions.js";
import { judgeRequestProximity, proximityAfterOpening } from "./login-request.proximity.js";
import type { QrTokenSigner } from "./qr-token.js";

/**
 * Passkey prompts one request may have started within a ceremony's lifetime. A person needs one
 * or two (a retry after a cancelled prompt); the cap keeps an anonymous holder of a QR token
 * from storing challenges without bound.
 */
const MAX_APPROVAL_CEREMONIES_PER_REQUEST = 10;

export interface ApprovalCeremonyStart {
  ceremonyId: string;
  options: Record<string, unknown>;
}

/**
 * How a phone proves it may act on a request: the capability that opening it handed out (for a
 * QR frame or a typed code; `qrToken` on the wire), or, for a push request, being signed in as
 * the person it was sent to. A QR frame itself is never a proof: it only opens (openApproval).
 */
export type PhoneProof = { kind: "qr"; qrToken: string } | { kind: "push"; userId: string };

/** The phone's side of a sign-in request: open it, then approve it with a passkey or deny it. */
export interface ApprovalService {
  /** The request, if the phone's proof opens it (else LOGIN_NOT_FOUND, whatever the reason). */
  getForPhone(options: { id: string; proof: PhoneProof }): Promise<LoginRequestRecord>;
  /** The phone opened the QR link or typed the code: marks it scanned and starts an approval. */
  openApproval(options: { body: OpenApprovalBody; phone: ClientContext }): Promise<{
    request: LoginRequestRecord;
    /** The proof for the next steps (PhoneProof "qr"): it outlives the frame that opened it. */
    capability: string;
    approval: ApprovalCeremonyStart;
  }>;
  /** Marks a request the phone has proven as scanned and starts an approval. */
  open(options: { id: string; proof: PhoneProof; phone: ClientContext; actorUserId: string | null }): Promise<{
    request: LoginRequestRecord;
    approval: ApprovalCeremonyStart;
  }>;
  startApproval(options: { id: string; proof: PhoneProof }): Promise<ApprovalCeremonyStart>;
  approve(options: {
    id: string;
    proof: PhoneProof;
    ceremonyId: string;
    credential: AuthenticationResponse;
    phone: ClientContext;
    /** The computer's digits typed on the phone: required when it is far away (see approve). */
    checkNumber?: number;
  }): Promise<{ request: LoginRequestRecord; user: UserView }>;
  deny(options: {
    id: string;
    proof: PhoneProof;
    reason: DenyReason;
    phone: ClientContext;
    /** The phone's signed-in person, if any: whose activity records it. */
    actorUserId: string | null;
  }): Promise<LoginRequestRecord>;
}

export function createApprovalService(deps: {
  store: Store;
  clock: Clock;
  rp: RelyingParty;
  qrTokens: QrTokenSigner;
  ceremonies: CeremonyService;
  transitions: LoginRequestTransitions;
  /** How near the computer is to the phone opening the request; kept on the request. */
  judge: ProximityJudge;
}): ApprovalService {
  const { store, clock, transitions } = deps;

  async function loadForPhone(id: string, proof: PhoneProof): Promise<LoginRequestRecord> {
    if (proof.kind === "qr" && !deps.qrTokens.verifyCapability({ loginRequestId: id, token: proof.qrToken })) {
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

  /**
   * The deliberate extra step when the computer is far from the phone that opened it (DESIGN
   * §11): the digits that computer shows, typed on the phone. A relayed QR's victim is not at
   * that computer and cannot see them. A wrong guess denies the request, so guessing gets one
   * try in 90; a missing one only asks for them.
   */
  async function checkFarAwayDigits(options: {
    request: LoginRequestRecord;
    checkNumber: number | undefined;
    phone: ClientContext;
  }): Promise<void> {
    const { request, checkNumber } = options;
    if (request.proximity?.verdict !== "far_away" || request.checkNumber === null) return;
    if (checkNumber === undefined) {
      throw new AppError(
        "CHECK_DIGITS_REQUIRED",
        "This computer is far from your phone: type the two digits it shows to approve.",
      );
    }
    if (checkNumber === request.checkNumber) return;
    await transitions.apply({
      request,
      event: "deny",
      change: () => ({ denyReason: "number_mismatch", approver: options.phone }),
      actorUserId: null,
    });
    throw new AppError(
      "CHECK_DIGITS_WRONG",
      "Those are not the digits on the computer, so the sign-in was denied. Nobody was signed in.",
    );
  }

  /** Refuses early, before a passkey prompt, when the request can no longer be approved. */
  async function ensureCanStillApprove(request: LoginRequestRecord): Promise<void> {
    if (isLoginExpiredAt(request, clock.now())) {
      await transitions.expireIfDue(request.id);
      throw expiredError();
    }
    if (!transitionLoginStatus(request.status, "approve").ok) throw conflictError(request);
  }

  async function scanAndStart(options: {
    request: LoginRequestRecord;
    phone: ClientContext;
    actorUserId: string | null;
  }): Promise<{ request: LoginRequestRecord; approval: ApprovalCeremonyStart }> {
    const scanned = await transitions.apply({
      request: options.request,
      event: "scan",
      // The first phone to open it is the one the desktop is told about.
      change: (current) => ({
        scannedAt: current.scannedAt ?? clock.now(),
        scannedBy: current.scannedBy ?? options.phone,
        proximity: proximityAfterOpening({
          stored: current.proximity,
          judged: judgeRequestProximity({ request: current, phone: options.phone, judge: deps.judge }),
        }),
      }),
      actorUserId: options.actorUserId,
    });
    return { request: scanned, approval: await startApprovalFor(scanned) };
  }

  return {
    getForPhone: ({ id, proof }) => loadForPhone(id, proof),

    async openApproval({ body, phone }) {
      if ("userCode" in body) {
        const found = await store.findLoginRequestByUserCode(body.userCode);
        // A push request is for its person's signed-in phones only, never for a typed code.
        if (found === null || found.push !== null) {
          throw new AppError("LOGIN_NOT_FOUND", "No sign-in request has this code. Check the code on the computer.");
        }
        const opened = await scanAndStart({ request: found, phone, actorUserId: null });
        return { ...opened, capability: deps.qrTokens.capabilityFor({ loginRequestId: found.id }) };
      }
      // A stale frame (two steps old) is refused exactly like a wrong one: it may be a relayed QR.
      if (!deps.qrTokens.verifyFrame({ loginRequestId: body.id, token: body.qrToken, now: clock.now() })) {
        throw notFoundError();
      }
      const capability = deps.qrTokens.capabilityFor({ loginRequestId: body.id });
      const request = await loadForPhone(body.id, { kind: "qr", qrToken: capability });
      return { ...(await scanAndStart({ request, phone, actorUserId: null })), capability };
    },

    async open({ id, proof, phone, actorUserId }) {
      return scanAndStart({ request: await loadForPhone(id, proof), phone, actorUserId });
    },

    async startApproval({ id, proof }) {
      const request = await loadForPhone(id, proof);
      await ensureCanStillApprove(request);
      return startApprovalFor(request);
    },

    async approve({ id, proof, ceremonyId, credential, phone, checkNumber }) {
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
      await checkFarAwayDigits({ request, checkNumber, phone });
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
      const approved = await transitions.apply({
        request,
        event: "approve",
        change: () => ({
          decidedAt: now,
          approvedAt: now,
          redeemBy: now + REDEEM_WINDOW_MS,
          userId: user.id,
          credentialId: passkey.id,
          approver: phone,
        }),
        actorUserId: user.id,
      });
      return { request: approved, user: { id: user.id, username: user.username, displayName: user.displayName } };
    },

    async deny({ id, proof, reason, phone, actorUserId }) {
      return transitions.apply({
        request: await loadForPhone(id, proof),
        event: "deny",
        change: () => ({ denyReason: reason, approver: phone }),
        actorUserId,
      });
    },
  };
}
