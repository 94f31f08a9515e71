/** Defaults and sizes shared by the server, the apps and the tests. */
export const DEFAULT_LOGIN_TTL_SECONDS = 120;
/** How long the desktop has to redeem an approval before it expires (DESIGN §2). */
export const REDEEM_WINDOW_MS = 30_000;
export const DEFAULT_SESSION_TTL_SECONDS = 7 * 24 * 60 * 60;
/**
 * A phone's own session: long, and sliding on use (APPROVER_SESSION_TTL_SECONDS), because a phone
 * that loses it stops getting sign-in requests. A phone unused this long signs in again with its
 * passkey.
 */
export const DEFAULT_APPROVER_SESSION_TTL_SECONDS = 90 * 24 * 60 * 60;
/** WebAuthn ceremonies must finish within this; challenges die with them. */
export const CEREMONY_TTL_MS = 5 * 60_000;
/** By default, pushes to a person pause this long after they report "This wasn't me" (Duo mutes 20 min). */
export const PUSH_PAUSE_MS = 20 * 60_000;
/**
 * A push the phone has not answered this long: the desktop suggests checking notifications or
 * using the QR code. It counts from when the desktop sent the push, never from anything the server
 * says, so it comes at the same moment whether or not the username exists.
 */
export const PUSH_NO_ANSWER_HINT_MS = 15_000;

/** How long a second-phone enrolment link works (once). */
export const ENROLMENT_LINK_TTL_MS = 10 * 60_000;

/** Bytes of randomness behind each secret; all ≥128 bits (DESIGN §6). */
export const LOGIN_ID_BYTES = 16;
export const DESKTOP_SECRET_BYTES = 32;
export const SESSION_TOKEN_BYTES = 32;
export const CEREMONY_ID_BYTES = 16;
export const QR_TOKEN_BYTES = 16;

/**
 * The desktop's QR changes every step (DESIGN §11): a frame is HMAC(key, request, step), with
 * step = floor(time / QR_STEP_MS) on the server's clock, and opening accepts only the current
 * and the previous step. A screenshot relayed to a victim is stale within seconds. Three seconds,
 * not one or two: a phone's own camera app opens the link in the browser and then the approver,
 * which can take a few seconds, and the frame it read must still open (3–6 s after it appeared).
 */
export const QR_STEP_MS = 3_000;

/** Crockford-like alphabet without 0/O, 1/I/L, U: easy to read aloud and type on a phone. */
export const USER_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ";
export const USER_CODE_LENGTH = 8;

/**
 * User codes of the OpenID device authorization grant (RFC 8628 §6.1): oidc-provider's "base-20"
 * consonants, nine of them, so a typed code tells itself apart from a sign-in code (eight).
 */
export const DEVICE_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
export const DEVICE_USER_CODE_MASK = "***-***-***";
export const DEVICE_USER_CODE_LENGTH = 9;

/** The largest JSON body any route accepts. A WebAuthn response is a few KiB at most. */
export const MAX_BODY_BYTES = 16 * 1024;

export const USERNAME_MAX_LENGTH = 64;
export const DISPLAY_NAME_MAX_LENGTH = 64;

/** Formats a user code for display: "ABCD-EFGH". */
export function formatUserCode(code: string): string {
  const half = Math.ceil(code.length / 2);
  return `${code.slice(0, half)}-${code.slice(half)}`;
}
