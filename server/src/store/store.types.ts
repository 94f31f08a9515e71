import type {
  ClientContextView,
  DenyReason,
  DesktopKey,
  LoginReview,
  LoginStatus,
  Proximity,
  SessionKind,
} from "@countersign/shared";

/** Where a request or session came from. Same shape as what people are shown. */
export type ClientContext = ClientContextView;

export interface UserRecord {
  id: string;
  /** Case-folded, unique. */
  username: string;
  displayName: string;
  /** The WebAuthn user handle (base64url), random and separate from the id. */
  webauthnUserId: string;
  createdAt: number;
}

export interface CredentialRecord {
  /** base64url credential id. */
  id: string;
  userId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  deviceType: "singleDevice" | "multiDevice";
  backedUp: boolean;
  /** "Pixel 8 · Chrome". */
  label: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** A WebAuthn ceremony in flight: its challenge is single-use and dies with it. */
export type CeremonyRecord = {
  id: string;
  challenge: string;
  expiresAt: number;
} & (
  | {
      kind: "registration";
      /** Set when a passkey is added to an existing account. */
      existingUserId: string | null;
      /** The addition was allowed by a one-time link from the account's phone, not a session here. */
      viaLink: boolean;
      username: string;
      displayName: string;
      webauthnUserId: string;
    }
  | { kind: "approval"; loginRequestId: string }
  /** Signing in on a computer with a passkey alone. */
  | { kind: "passkey_sign_in" }
  /** A phone signing in again with the passkey it holds; kept apart so neither finishes the other. */
  | { kind: "approver_sign_in" }
  /** A second-phone enrolment link; its id is the SHA-256 of the link's token. */
  | { kind: "enrolment_link"; userId: string }
);

export interface LoginRequestRecord {
  id: string;
  status: LoginStatus;
  /** Incremented by every write; the compare-and-set token. */
  version: number;
  createdAt: number;
  expiresAt: number;
  /** When the store may forget it; later than expiresAt so late readers learn "expired". */
  retainUntil: number;
  desktopSecretHash: string;
  userCode: string;
  desktop: ClientContext;
  scannedAt: number | null;
  scannedBy: ClientContext | null;
  decidedAt: number | null;
  userId: string | null;
  credentialId: string | null;
  approver: ClientContext | null;
  approvedAt: number | null;
  redeemBy: number | null;
  denyReason: DenyReason | null;
  /** Set for a push request (DESIGN §3.3): sent straight to this person's phones. */
  push: PushDetails | null;
  /** The app this sign-in is for, when another app asks through Countersign (OpenID Connect). */
  app: LoginApp | null;
  /**
   * The OpenID request this one stands for when no desktop will redeem it: a device code (RFC
   * 8628) or a CIBA request. Deciding this request settles that one (oidc/oidc.async-grants.ts).
   */
  oidc: OidcRequestLink | null;
  /**
   * How near the computer was to the phone that opened it, judged at opening (null until then).
   * "far_away" stays once seen, so a nearby phone opening it later cannot wash it out; approving
   * a far-away request takes an extra step.
   */
  proximity: Proximity | null;
  /**
   * Two digits the computer shows once a far-away phone opened a QR request; approving it then
   * takes typing them on the phone. Null for push (its match number plays that part) and for
   * requests with no computer screen (device grant, CIBA).
   */
  checkNumber: number | null;
  /**
   * The public half of the desktop page's key (DESIGN §11): watching and redeeming need a proof
   * made with its private half. Null for requests no desktop redeems (device grant, CIBA).
   */
  desktopKey: DesktopKey | null;
}

export type LoginApp = NonNullable<LoginReview["app"]>;

export interface OidcRequestLink {
  kind: "device_code" | "ciba";
  /** The oidc-provider record's id (its jti). */
  id: string;
}

export interface PushDetails {
  userId: string;
  /**
   * The two-digit number the desktop shows and the phone must pick; null for an app's request
   * (CIBA), where the app shows its binding message instead.
   */
  matchNumber: number | null;
  /** The three numbers the phone offers, the right one among them. */
  choices: number[];
  /**
   * Whether it reached the person's phones: false when held back (pushes paused, or over a
   * limit), so that nothing about it (not even closing its notification) wakes a phone.
   */
  delivered: boolean;
}

export interface SessionRecord {
  /** SHA-256 of the token, base64url. The token itself is never stored. */
  tokenHash: string;
  /** A public name for the session (for listing and revoking), unrelated to its token. */
  id: string;
  kind: SessionKind;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  context: ClientContext;
  /** How the session came to be; kept here because the login request is forgotten soon. */
  source: SessionSource;
  /**
   * Where the push service delivers this phone's notifications (Web Push), approver sessions
   * only. Kept on the session so that whatever ends the session ends its notifications too.
   */
  pushSubscription: PushSubscriptionRecord | null;
}

/** A browser's push subscription (W3C Push API), as the server needs it to send. */
export interface PushSubscriptionRecord {
  /** The push service's URL for this subscription; a capability, never logged. */
  endpoint: string;
  /** The browser's P-256 public key (base64url) and auth secret (base64url), for RFC 8291. */
  keys: { p256dh: string; auth: string };
  createdAt: number;
}

export type SessionSource =
  | {
      kind: "login_request";
      loginRequestId: string;
      credentialId: string;
      approver: ClientContext;
      approvedAt: number;
    }
  | { kind: "enrolment"; credentialId: string }
  /** Signed in on the desktop itself with a passkey (platform, hybrid or security key). */
  | { kind: "passkey"; credentialId: string };

export type ActivityKind =
  "passkey_enrolled" | "login_approved" | "login_denied" | "fraud_reported" | "session_signed_out";

export interface ActivityRecord {
  at: number;
  kind: ActivityKind;
  loginRequestId: string | null;
  context: ClientContext | null;
  detail: string | null;
}
