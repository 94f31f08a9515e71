/** Encodes an id for a path, but passes an Express route parameter (":id") through as is. */
const segment = (value: string): string => (value.startsWith(":") ? value : encodeURIComponent(value));

/**
 * Every HTTP path of the API, so the server, the apps and the tests name them once. The server
 * calls the functions with ":id" to get its route patterns.
 */
export const API_PATHS = {
  logins: "/api/logins",
  login: (id: string) => `/api/logins/${segment(id)}`,
  loginCancel: (id: string) => `/api/logins/${segment(id)}/cancel`,
  loginRedeem: (id: string) => `/api/logins/${segment(id)}/redeem`,
  loginApprovalOptions: (id: string) => `/api/logins/${segment(id)}/approval-options`,
  loginApprove: (id: string) => `/api/logins/${segment(id)}/approve`,
  loginDeny: (id: string) => `/api/logins/${segment(id)}/deny`,
  approvalsOpen: "/api/approvals/open",
  /** A TV's or CLI's sign-in (OpenID device authorization grant), opened by its user code. */
  approvalsOpenDevice: "/api/approvals/device",
  enrolmentOptions: "/api/enrolment/options",
  enrolmentVerify: "/api/enrolment/verify",
  passkeySignInOptions: "/api/passkey-sign-in/options",
  passkeySignInVerify: "/api/passkey-sign-in/verify",
  session: "/api/session",
  approverSession: "/api/approver/session",
  approverSessions: "/api/approver/sessions",
  approverSessionById: (id: string) => `/api/approver/sessions/${segment(id)}`,
  approverActivity: "/api/approver/activity",
  approverPasskeys: "/api/approver/passkeys",
  approverEnrolmentLinks: "/api/approver/enrolment-links",
  approverInbox: "/api/approver/inbox",
  pushLogins: "/api/push-logins",
  pushMatch: (id: string) => `/api/push-logins/${segment(id)}/match`,
  pushApprove: (id: string) => `/api/push-logins/${segment(id)}/approve`,
  pushDeny: (id: string) => `/api/push-logins/${segment(id)}/deny`,
  approverPasskey: (id: string) => `/api/approver/passkeys/${segment(id)}`,
  /** A phone without a session signs in again with the passkey it holds (discoverable credential). */
  approverSignInOptions: "/api/approver/sign-in/options",
  approverSignInVerify: "/api/approver/sign-in/verify",
  /** Ends every computer session of the person at once (after "This wasn't me", or lost control). */
  approverSignOutComputers: "/api/approver/sessions/sign-out-computers",
  /** The VAPID public key phones subscribe with; this phone's push subscription (PUT, GET, DELETE). */
  approverPushKey: "/api/approver/push/key",
  approverPushSubscription: "/api/approver/push/subscription",
  /** The apps (OpenID clients) with access to the account, and one app's, by its client id. */
  approverApps: "/api/approver/apps",
  approverApp: (clientId: string) => `/api/approver/apps/${segment(clientId)}`,
} as const;

/** Where the approver app lives, and the fragment route a QR code opens. */
export const APPROVER_BASE_PATH = "/approve/";

export function approverLoginUrl(options: { origin: string; id: string; qrToken: string }): string {
  return `${options.origin}${APPROVER_BASE_PATH}#/r/${options.id}.${options.qrToken}`;
}

/** Reads `<id>.<qrToken>` back out of an approver URL's fragment; null if it is not one. */
export function parseApproverLoginFragment(hash: string): { id: string; qrToken: string } | null {
  const match = /^#\/r\/([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(hash);
  if (match === null) return null;
  return { id: match[1]!, qrToken: match[2]! };
}

/** Where a device's `verification_uri_complete` sends the phone: the approver, with the code. */
export function approverDeviceUrl(options: { origin: string; userCode: string }): string {
  return `${options.origin}${APPROVER_BASE_PATH}#/device/${encodeURIComponent(options.userCode)}`;
}

/** Reads the device's user code back out of an approver URL's fragment; null if it is not one. */
export function parseApproverDeviceFragment(hash: string): { userCode: string } | null {
  const match = /^#\/device\/([A-Za-z0-9-]{1,32})$/.exec(hash);
  return match === null ? null : { userCode: match[1]! };
}

/** The link a signed-in phone shows to let a second phone join the account. */
export function approverEnrolmentUrl(options: { origin: string; token: string }): string {
  return `${options.origin}${APPROVER_BASE_PATH}#/enrol/${options.token}`;
}

/** Where a push notification leads: the approver, at that push request. */
export function approverPushUrl(options: { origin: string; id: string }): string {
  return `${options.origin}${APPROVER_BASE_PATH}#/push/${encodeURIComponent(options.id)}`;
}

export function parseApproverPushFragment(hash: string): { id: string } | null {
  const match = /^#\/push\/([A-Za-z0-9_-]{1,128})$/.exec(hash);
  return match === null ? null : { id: match[1]! };
}

export function parseApproverEnrolFragment(hash: string): { token: string } | null {
  const match = /^#\/enrol\/([A-Za-z0-9_-]+)$/.exec(hash);
  return match === null ? null : { token: match[1]! };
}
