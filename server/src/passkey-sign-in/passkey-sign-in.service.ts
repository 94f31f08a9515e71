import type { AuthenticationResponse, PasskeySignInOptionsResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import type { NewSession, SessionService } from "../session/session.service.js";
import type { ClientContext, Store } from "../store/store.js";
import type { CeremonyService } from "../webauthn/ceremony.service.js";
import { verifyPasskeyAssertion } from "../webauthn/passkey-assertion.js";
import { buildAuthenticationOptions, type RelyingParty } from "../webauthn/relying-party.js";

export interface PasskeySignInService {
  start(): Promise<PasskeySignInOptionsResponse>;
  finish(options: {
    ceremonyId: string;
    credential: AuthenticationResponse;
    desktop: ClientContext;
  }): Promise<NewSession>;
}

/**
 * Signing in on the desktop itself with a passkey: the browser offers the passkeys it can reach,
 * which includes its own hybrid QR flow to a phone and roaming security keys. The passkey alone
 * says who signs in (discoverable credentials).
 */
export function createPasskeySignInService(deps: {
  store: Store;
  clock: Clock;
  rp: RelyingParty;
  ceremonies: CeremonyService;
  sessions: SessionService;
}): PasskeySignInService {
  return {
    async start() {
      const ceremony = await deps.ceremonies.startCeremony({ kind: "passkey_sign_in" });
      const options = await buildAuthenticationOptions({ rp: deps.rp, challenge: ceremony.challenge });
      return { ceremonyId: ceremony.id, options: { ...options } };
    },

    async finish({ ceremonyId, credential, desktop }) {
      // Consumed first: a failed attempt never leaves this challenge usable (DESIGN §6).
      const ceremony = await deps.ceremonies.consumeCeremony({ id: ceremonyId, kind: "passkey_sign_in" });
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
      return deps.sessions.createSession({
        kind: "desktop",
        userId: user.id,
        context: desktop,
        source: { kind: "passkey", credentialId: passkey.id },
      });
    },
  };
}
