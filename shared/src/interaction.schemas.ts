/**
 * Signing in to another app through Countersign (OpenID Connect, DESIGN §10): the provider sends
 * the browser to the desktop page at /interaction/<uid>, which makes these calls. They live under
 * that path because the provider's interaction cookie is sent only there.
 */
export const INTERACTION_BASE_PATH = "/interaction/";

export const INTERACTION_PATHS = {
  page: (uid: string) => `${INTERACTION_BASE_PATH}${encodeURIComponent(uid)}`,
  details: (uid: string) => `${INTERACTION_BASE_PATH}${encodeURIComponent(uid)}/details`,
  /** A QR sign-in like /api/logins, but naming the app on the phone. */
  logins: (uid: string) => `${INTERACTION_BASE_PATH}${encodeURIComponent(uid)}/logins`,
  /** A push sign-in like /api/push-logins, but naming the app on the phone. */
  pushLogins: (uid: string) => `${INTERACTION_BASE_PATH}${encodeURIComponent(uid)}/push-logins`,
  login: (uid: string) => `${INTERACTION_BASE_PATH}${encodeURIComponent(uid)}/login`,
  consent: (uid: string) => `${INTERACTION_BASE_PATH}${encodeURIComponent(uid)}/consent`,
  abort: (uid: string) => `${INTERACTION_BASE_PATH}${encodeURIComponent(uid)}/abort`,
} as const;

/** The interaction's uid from a page path, or null when the page is the plain sign-in page. */
export function parseInteractionPath(pathname: string): string | null {
  const match = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname);
  return match === null ? null : match[1]!;
}

export interface InteractionDetailsResponse {
  uid: string;
  /** What the app needs now: the person to sign in, or their consent to what it asks. */
  prompt: "login" | "consent";
  client: { name: string; logoUri: string | null; clientUri: string | null };
  /** What the app asks for, as scope names ("openid", "profile", "offline_access"). */
  scopes: string[];
  /** Whether this browser's Countersign session can finish the login without a new sign-in. */
  signedIn: boolean;
}

/** Where the browser goes next: back into the provider, and from there to the app. */
export interface InteractionRedirectResponse {
  redirectTo: string;
}
