/**
 * Every error code the API and the socket acknowledgements can return, with its HTTP status.
 * One list, so the server, the apps and the tests agree on what each failure is called.
 */
export const ERROR_STATUS = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  /** The request could not be read: a body that is not what its Content-Encoding says, a broken %-escape. */
  MALFORMED_REQUEST: 400,
  UNAUTHENTICATED: 401,
  ORIGIN_MISMATCH: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  LOGIN_NOT_FOUND: 404,
  CEREMONY_NOT_FOUND: 400,
  LOGIN_CONFLICT: 409,
  USERNAME_TAKEN: 409,
  LAST_PASSKEY: 409,
  LOGIN_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADERS_TOO_LARGE: 431,
  WEBAUTHN_VERIFICATION_FAILED: 400,
  UNKNOWN_CREDENTIAL: 400,
  /** A far-away sign-in (DESIGN §11): approving it needs the digits the computer shows. */
  CHECK_DIGITS_REQUIRED: 400,
  /** Wrong digits for a far-away sign-in: the request was denied. */
  CHECK_DIGITS_WRONG: 400,
  /** A push subscription whose endpoint is not a push service the server sends to (request forgery). */
  PUSH_SERVICE_REFUSED: 400,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  STORE_UNAVAILABLE: 503,
  /**
   * Answered by the reverse proxy in front (deploy/nginx.conf), never by the server itself: a
   * method or a request the proxy refuses, or no server process to answer.
   */
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** The one error shape of every HTTP response and socket acknowledgement. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export interface ErrorResponse {
  error: ErrorBody;
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}
