import type { AuthenticationResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import type { CredentialRecord, Store, UserRecord } from "../store/store.js";
import { verifyAssertion, type RelyingParty } from "./relying-party.js";

/**
 * Who a passkey assertion proves to be present: finds the enrolled passkey and its owner,
 * checks the user handle, verifies signature, challenge, origin, RP ID, user verification and
 * counter, and records the use. The one place every sign-in by passkey goes through.
 */
export async function verifyPasskeyAssertion(options: {
  store: Store;
  clock: Clock;
  rp: RelyingParty;
  challenge: string;
  credential: AuthenticationResponse;
}): Promise<{ passkey: CredentialRecord; user: UserRecord }> {
  const { store, credential } = options;
  const passkey = await store.getCredential(credential.id);
  const user = passkey === null ? null : await store.getUser(passkey.userId);
  if (passkey === null || user === null) {
    throw new AppError("UNKNOWN_CREDENTIAL", "This passkey is not enrolled with Countersign.");
  }
  // A discoverable credential names its account; it must be the account the passkey belongs to.
  if (credential.response.userHandle !== undefined && credential.response.userHandle !== user.webauthnUserId) {
    throw new AppError("WEBAUTHN_VERIFICATION_FAILED", "The passkey does not belong to the account it claims.");
  }
  const { newCounter } = await verifyAssertion({
    rp: options.rp,
    challenge: options.challenge,
    response: credential,
    credential: passkey,
  });
  await store.recordCredentialUse({ id: passkey.id, counter: newCounter, usedAt: options.clock.now() });
  return { passkey, user };
}
