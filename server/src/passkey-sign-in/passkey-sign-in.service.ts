import type { AuthenticationResponse, PasskeySignInOptionsResponse, SessionKind } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import { NO_AUDIT, type AuditTrail } from "../observability/audit-trail.js";
import type { NewSession, SessionService } from "../session/session.service.js";
import type { ClientContext, Store } from "../store/store.js";
import type { CeremonyService } from "../webauthn/ceremony.service.js";
import { verifyPasskeyAssertion } from "../webauthn/passkey-assertion.js";
import { buildAuthenticationOptions, type RelyingParty } from "../webauthn/relying-party.js";

export interface PasskeySignInService {
  /** A challenge for a sign-in of this kind; only a finish of the same kind can use it. */
  start(options: { kind: SessionKind }): Promise<PasskeySignInOptionsResponse>;
  /** A new session of `kind` for whoever the passkey proves to be present on `client`. */
  finish(options: {
    kind: SessionKind;
    ceremonyId: string;
    credential: AuthenticationResponse;
    client: ClientContext;
  }): Promise<NewSession>;
}

/**
 * Each kind its own ceremony: a challenge fetched by a computer's page cannot finish a phone's
 * sign-in (which would hand a computer a phone session), nor the other way round.
 */
const CEREMONY_KIND = { desktop: "passkey_sign_in", approver: "approver_sign_in" } as const;

/**
 * Signing in with a passkey alone (discoverable credentials: the passkey says who signs in).
 * On a computer, the browser offers the passkeys it can reach, including its own hybrid QR flow
 * to a phone and roaming security keys. On a phone that lost its session (revoked, expired),
 * the passkey it already holds signs it in again.
 */
export function createPasskeySignInService(deps: {
  store: Store;
  clock: Clock;
  rp: RelyingParty;
  ceremonies: CeremonyService;
  sessions: SessionService;
  /** Where each sign-in is recorded; omitted, nowhere. */
  audit?: AuditTrail;
}): PasskeySignInService {
  const audit = deps.audit ?? NO_AUDIT;
  return {
    async start({ kind }) {
      const ceremony = await deps.ceremonies.startCeremony({ kind: CEREMONY_KIND[kind] });
      const options = await buildAuthenticationOptions({ rp: deps.rp, challenge: ceremony.challenge });
      return { ceremonyId: ceremony.id, options: { ...options } };
    },

    async finish({ kind, ceremonyId, credential, client }) {
      // Consumed first: a failed attempt never leaves this challenge usable (DESIGN §6).
      const ceremony = await deps.ceremonies.consumeCeremony({ id: ceremonyId, kind: CEREMONY_KIND[kind] });
      if (deps.clock.now() >= ceremony.expiresAt) {
        throw new AppError("CEREMONY_NOT_FOUND", "This passkey prompt expired; start again.");
      }
      const { passkey, user } = await verifyPasskeyAssertion({
        store: deps.store,
        clock: deps.clock,
        rp: deps.rp,
        challenge: ceremony.challenge,
        credential,
      });
      const session = await deps.sessions.createSession({
        kind,
        userId: user.id,
        context: client,
        source: { kind: "passkey", credentialId: passkey.id },
      });
      audit.record({ event: "sign_in.passkey", userId: user.id, sessionId: session.record.id, kind });
      return session;
    },
  };
}
