import { isLoginExpiredAt, REDEEM_WINDOW_MS, transitionLoginStatus } from "@countersign/shared";
import type { AuthenticationResponse, DenyReason, OpenApprovalBody, UserView } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
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
 * How a phone proves it may act on a request: the QR token it scanned (or got for a typed
 * code), or, for a push request, being signed in as the person it was sent to.
 */
export type PhoneProof = { kind: "qr"; qrToken: string } | { kind: "push"; userId: string };

/** The phone's side of a sign-in request: open it, then approve it with a passkey or deny it. */
export interface ApprovalService {
  /** The request, if the phone's proof opens it (else LOGIN_NOT_FOUND, whatever the reason). */
  getForPhone(options: { id: string; proof: PhoneProof }): Promise<LoginRequestRecord>;
  /** The phone opened the QR link or typed the code: marks it scanned and starts an approval. */
  openApproval(options: { body: OpenApprovalBody; phone: ClientContext }): Promise<{
    request: LoginRequestRecord;
    qrToken: string;
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
}): ApprovalService {
  const { store, clock, transitions } = deps;

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
        return { ...opened, qrToken: deps.qrTokens.tokenFor({ loginRequestId: found.id }) };
      }
      const request = await loadForPhone(body.id, { kind: "qr", qrToken: body.qrToken });
      return { ...(await scanAndStart({ request, phone, actorUserId: null })), qrToken: body.qrToken };
    },

    async open({ id, proof, phone, actorUserId }) {
      return scanAndStart({ request: await loadForPhone(id, proof), phone, actorUserId });
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
