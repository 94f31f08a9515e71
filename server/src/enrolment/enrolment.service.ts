import {
  approverEnrolmentUrl,
  ENROLMENT_LINK_TTL_MS,
  type EnrolmentLinkResponse,
  type EnrolmentOptionsBody,
  type EnrolmentOptionsResponse,
  type EnrolmentVerifyBody,
  type PasskeyView,
  type UserView,
} from "@countersign/shared";
import { renderQrSvg } from "../qr/qr-code.js";
import { hashSecret } from "../tokens.js";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import { randomToken, type Random } from "../random.js";
import { NO_AUDIT, type AuditTrail } from "../observability/audit-trail.js";
import type { NewSession, SessionService } from "../session/session.service.js";
import type { ClientContext, CredentialRecord, SessionRecord, Store, UserRecord } from "../store/store.js";
import type { CeremonyService } from "../webauthn/ceremony.service.js";
import { buildRegistrationOptions, verifyRegistration, type RelyingParty } from "../webauthn/relying-party.js";

export interface EnrolmentService {
  /** A one-time link (and its QR) with which a second phone can join the approver's account. */
  createEnrolmentLink(options: { approver: SessionRecord }): Promise<EnrolmentLinkResponse>;
  /**
   * Starts a passkey registration. A new username creates an account; an existing one is only
   * accepted from that account's own signed-in approver (adding another passkey).
   */
  startEnrolment(options: {
    body: EnrolmentOptionsBody;
    approver: SessionRecord | null;
  }): Promise<EnrolmentOptionsResponse>;
  finishEnrolment(options: {
    body: EnrolmentVerifyBody;
    phone: ClientContext;
    approver: SessionRecord | null;
  }): Promise<{ user: UserView; passkey: PasskeyView; session: NewSession | null }>;
}

export function createEnrolmentService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  rp: RelyingParty;
  ceremonies: CeremonyService;
  sessions: SessionService;
  /** Where each enrolment is recorded; omitted, nowhere. */
  audit?: AuditTrail;
}): EnrolmentService {
  const { store, clock } = deps;
  const audit = deps.audit ?? NO_AUDIT;

  return {
    async createEnrolmentLink({ approver }) {
      const token = randomToken(deps.random, 32);
      const expiresAt = clock.now() + ENROLMENT_LINK_TTL_MS;
      // Stored under the token's hash, like every other secret; the token lives only in the link.
      await store.putCeremony({
        id: hashSecret(token),
        kind: "enrolment_link",
        userId: approver.userId,
        challenge: "",
        expiresAt,
      });
      const url = approverEnrolmentUrl({ origin: deps.rp.origin, token });
      return { url, qrSvg: await renderQrSvg(url), expiresAt };
    },

    async startEnrolment({ body, approver }) {
      let owner: UserRecord | null = null;
      let viaLink = false;
      if ("enrolmentToken" in body) {
        // The link is spent here, whatever happens next: it works once (DESIGN §3.1).
        const link = await store.takeCeremony(hashSecret(body.enrolmentToken));
        owner =
          link?.kind === "enrolment_link" && clock.now() < link.expiresAt ? await store.getUser(link.userId) : null;
        if (owner === null) {
          throw new AppError(
            "CEREMONY_NOT_FOUND",
            "This link expired or was already used. Make a new one on your phone.",
          );
        }
        viaLink = true;
      } else {
        const existing = await store.findUserByUsername(body.username);
        if (existing !== null && approver?.userId !== existing.id) {
          throw new AppError(
            "USERNAME_TAKEN",
            'This username is taken. If this is your account, choose "I already use Countersign on this phone".',
          );
        }
        owner = existing;
      }
      const account = {
        username: owner?.username ?? ("username" in body ? body.username : ""),
        displayName: owner?.displayName ?? ("displayName" in body ? body.displayName : ""),
        webauthnUserId: owner?.webauthnUserId ?? randomToken(deps.random, 32),
      };
      const ceremony = await deps.ceremonies.startCeremony({
        kind: "registration",
        existingUserId: owner?.id ?? null,
        viaLink,
        ...account,
      });
      const options = await buildRegistrationOptions({
        rp: deps.rp,
        challenge: ceremony.challenge,
        ...account,
        exclude: owner === null ? [] : await store.listCredentials(owner.id),
      });
      return { ceremonyId: ceremony.id, options: { ...options } };
    },

    async finishEnrolment({ body, phone, approver }) {
      const ceremony = await deps.ceremonies.consumeCeremony({ id: body.ceremonyId, kind: "registration" });
      if (clock.now() >= ceremony.expiresAt) {
        throw new AppError("CEREMONY_NOT_FOUND", "This passkey prompt expired; start again.");
      }
      // The session that started an add-passkey ceremony must still be the one finishing it,
      // unless a one-time link from the account's phone started it.
      if (ceremony.existingUserId !== null && !ceremony.viaLink && approver?.userId !== ceremony.existingUserId) {
        throw new AppError("UNAUTHENTICATED", "Sign in on this phone again to add a passkey.");
      }
      const verified = await verifyRegistration({
        rp: deps.rp,
        challenge: ceremony.challenge,
        response: body.credential,
      });
      const now = clock.now();
      const userId = ceremony.existingUserId ?? randomToken(deps.random, 16);
      const credential: CredentialRecord = {
        id: verified.credentialId,
        userId,
        publicKey: verified.publicKey,
        counter: verified.counter,
        transports: verified.transports,
        deviceType: verified.deviceType,
        backedUp: verified.backedUp,
        label: phone.label,
        createdAt: now,
        lastUsedAt: null,
      };

      let user: UserRecord;
      if (ceremony.existingUserId === null) {
        user = {
          id: userId,
          username: ceremony.username,
          displayName: ceremony.displayName,
          webauthnUserId: ceremony.webauthnUserId,
          createdAt: now,
        };
        const created = await store.createUserWithCredential({ user, credential });
        if (created === "username_taken") {
          throw new AppError("USERNAME_TAKEN", "Someone enrolled this username a moment ago; choose another.");
        }
        if (created === "credential_taken") throw credentialTakenError();
      } else {
        const owner = await store.getUser(ceremony.existingUserId);
        if (owner === null) throw new AppError("UNAUTHENTICATED", "This account no longer exists.");
        user = owner;
        if ((await store.addCredential(credential)) === "credential_taken") throw credentialTakenError();
      }
      audit.record(
        ceremony.existingUserId === null
          ? { event: "account.enrolled", userId, passkeyId: credential.id }
          : { event: "passkey.added", userId, passkeyId: credential.id, viaLink: ceremony.viaLink },
      );
      await store.appendActivity({
        userId,
        event: { at: now, kind: "passkey_enrolled", loginRequestId: null, context: phone, detail: credential.label },
      });
      // A new account, or a second phone joining by link, is signed in on the phone that
      // enrolled; a phone adding a passkey to its own account already is.
      const session =
        ceremony.existingUserId === null || ceremony.viaLink
          ? await deps.sessions.createSession({
              kind: "approver",
              userId,
              context: phone,
              source: { kind: "enrolment", credentialId: credential.id },
            })
          : null;
      // The phone's cookie now names the new session; the one it replaces must not outlive it
      // (nor keep its sockets in the old account's room).
      if (session !== null && approver !== null) {
        await deps.sessions.endSessions({ sessions: [approver], reason: "replaced" });
      }
      return {
        user: { id: user.id, username: user.username, displayName: user.displayName },
        passkey: {
          id: credential.id,
          label: credential.label,
          createdAt: credential.createdAt,
          lastUsedAt: null,
          backedUp: credential.backedUp,
        },
        session,
      };
    },
  };
}

function credentialTakenError(): AppError {
  return new AppError("WEBAUTHN_VERIFICATION_FAILED", "This passkey is already enrolled.");
}
