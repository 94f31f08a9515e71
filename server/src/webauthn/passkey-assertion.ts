import type { AuthenticationResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import type { CredentialRecord, Store, UserRecord } from "../store/store.js";
import { verifyAssertion, type RelyingParty } from "./relying-party.js";

/**
 * Who a passkey assertion proves to be present: finds the enrolled passkey and its owner,
 * checks the user handle, verifies signature, challenge, origin, RP ID and user verification,
 * checks the owner against `requireUserId` (default: any enrolled user), and only then records
 * the use, advancing the signature counter in one atomic step. The one place every sign-in by
 * passkey goes through.
 */
export async function verifyPasskeyAssertion(options: {
  store: Store;
  clock: Clock;
  rp: RelyingParty;
  challenge: string;
  credential: AuthenticationResponse;
  /** The user the passkey must belong to; undefined (the default) accepts any enrolled user. */
  requireUserId?: string;
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
  // Before the use is recorded: a refused passkey's counter and last use stay as they were.
  if (options.requireUserId !== undefined && user.id !== options.requireUserId) {
    throw new AppError("UNKNOWN_CREDENTIAL", "This passkey belongs to another account.");
  }
  // The library compared the counter with the one read above; concurrent uses all read the same
  // one, so only this compare-and-set decides which of them counts.
  const advanced = await store.advanceCredentialCounter({
    id: passkey.id,
    counter: newCounter,
    usedAt: options.clock.now(),
  });
  if (advanced === "not_found") {
    throw new AppError("UNKNOWN_CREDENTIAL", "This passkey is not enrolled with Countersign.");
  }
  if (advanced === "replayed") {
    throw new AppError(
      "WEBAUTHN_VERIFICATION_FAILED",
      "The passkey's signature counter did not move forward; it may have been cloned, or this assertion was used already.",
    );
  }
  return { passkey, user };
}
