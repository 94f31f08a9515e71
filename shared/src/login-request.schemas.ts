import { z } from "zod";
import {
  DEVICE_USER_CODE_ALPHABET,
  DEVICE_USER_CODE_LENGTH,
  USER_CODE_ALPHABET,
  USER_CODE_LENGTH,
} from "./constants.js";
import { LOGIN_STATUSES } from "./login-request.machine.js";
import { desktopKeySchema, desktopProofSchema } from "./desktop-key.schemas.js";
import { proximitySchema } from "./proximity.schemas.js";
import { clientContextViewSchema, userViewSchema } from "./user.schemas.js";
import { authenticationResponseSchema, base64url, webauthnOptionsSchema } from "./webauthn.schemas.js";

export const loginIdSchema = base64url({ max: 64 });
export const desktopSecretSchema = base64url({ max: 128 });
export const qrTokenSchema = base64url({ max: 128 });
export const ceremonyIdSchema = base64url({ max: 64 });

/** Accepts what a person types: any case, spaces or dashes between groups. */
export const userCodeSchema = z
  .string()
  .max(32)
  .transform((value) => value.toUpperCase().replace(/[\s-]/g, ""))
  .pipe(
    z
      .string()
      .length(USER_CODE_LENGTH, `must be ${USER_CODE_LENGTH} characters`)
      .regex(new RegExp(`^[${USER_CODE_ALPHABET}]+$`), "contains a character no code uses"),
  );

/** A device's user code as a person types it: any case, with or without dashes and spaces. */
export const deviceUserCodeSchema = z
  .string()
  .max(32)
  .transform((value) => value.toUpperCase().replace(/[\s-]/g, ""))
  .pipe(
    z
      .string()
      .length(DEVICE_USER_CODE_LENGTH, `must be ${DEVICE_USER_CODE_LENGTH} characters`)
      .regex(new RegExp(`^[${DEVICE_USER_CODE_ALPHABET}]+$`), "contains a character no code uses"),
  );

/** Which kind of code a person typed into the approver: a sign-in's, a device's, or neither. */
export function typedCodeKind(text: string): "login" | "device" | null {
  if (userCodeSchema.safeParse(text).success) return "login";
  if (deviceUserCodeSchema.safeParse(text).success) return "device";
  return null;
}

export const openDeviceApprovalBodySchema = z.object({ userCode: deviceUserCodeSchema }).strict();

export const loginStatusSchema = z.enum(LOGIN_STATUSES);

/** Why a request was denied: the person's two choices, or a wrong number in the push flow. */
export const denyReasonSchema = z.enum(["not_me", "cancelled", "number_mismatch"]);
export type DenyReason = z.infer<typeof denyReasonSchema>;

export const deviceSummarySchema = clientContextViewSchema.pick({
  browser: true,
  os: true,
  deviceType: true,
  label: true,
});

/** What the desktop that created a request sees of it. Never who approved, until redeemed. */
export const loginViewSchema = z.object({
  id: z.string(),
  status: loginStatusSchema,
  /** Grows with every change, so a client can drop an update older than one it already has. */
  version: z.number().int(),
  createdAt: z.number(),
  expiresAt: z.number(),
  redeemBy: z.number().nullable(),
  scannedBy: deviceSummarySchema.nullable(),
  denyReason: denyReasonSchema.nullable(),
  /**
   * Shown only once the phone that opened it is far away: the digits the person must type on
   * the phone to approve (DESIGN §11). Null otherwise, and for push (which has its number).
   */
  checkNumber: z.number().int().nullable(),
});
export type LoginView = z.infer<typeof loginViewSchema>;

/**
 * One frame of a request's changing QR: the token for one time step (QR_STEP_MS) and the approver
 * link that carries it, which the desktop page draws. It opens the request only while its step
 * is the current or the previous one.
 */
export const qrFrameSchema = z.object({
  /** The request it is for. */
  id: z.string(),
  step: z.number().int(),
  token: z.string(),
  url: z.string(),
});
export type QrFrame = z.infer<typeof qrFrameSchema>;

export const createLoginResponseSchema = z.object({
  login: loginViewSchema,
  /** Shown once: it is the only proof that this browser created the request. */
  desktopSecret: z.string(),
  userCode: z.string(),
  /** The first frame, to draw at once; the next ones arrive on the socket that watches it. */
  qr: qrFrameSchema,
});
export type CreateLoginResponse = z.infer<typeof createLoginResponseSchema>;

export const desktopSecretBodySchema = z.object({ desktopSecret: desktopSecretSchema });

/** A new QR sign-in: the public half of the page's key (desktop-key.schemas.ts). */
export const createLoginBodySchema = z.object({ desktopKey: desktopKeySchema });

/** Redeeming takes the secret and a fresh proof that this is the page that holds the key. */
export const redeemBodySchema = z.object({ desktopSecret: desktopSecretSchema, proof: desktopProofSchema });

export const openApprovalBodySchema = z.union([
  z.object({ id: loginIdSchema, qrToken: qrTokenSchema }).strict(),
  z.object({ userCode: userCodeSchema }).strict(),
]);
export type OpenApprovalBody = z.infer<typeof openApprovalBodySchema>;

export const riskSignalSchema = z.object({
  /** far_away: the computer seems far from this phone (proximity.schemas.ts), as in a relayed QR. */
  code: z.enum(["far_away"]),
  message: z.string(),
});
export type RiskSignal = z.infer<typeof riskSignalSchema>;

/** What the phone shows a person before they decide. */
export const loginReviewSchema = z.object({
  id: z.string(),
  status: loginStatusSchema,
  createdAt: z.number(),
  expiresAt: z.number(),
  /** Its `place` is approximate ("Stockholm, Sweden"), from an offline database; null if unknown. */
  desktop: clientContextViewSchema,
  /** How near the computer is to the phone viewing this review (for an app's server: unknown). */
  proximity: proximitySchema,
  risks: z.array(riskSignalSchema),
  /** The app being signed in to through Countersign (OpenID Connect); null for Countersign itself. */
  app: z
    .object({
      name: z.string(),
      /**
       * How the app asked: a browser on the computer (the QR page), a TV or CLI showing a code
       * (device grant), or the app's server naming the person (CIBA, as a push).
       */
      via: z.enum(["browser", "device", "backchannel"]),
      /** What the app says it shows on its own screen (CIBA's binding_message), to compare. */
      bindingMessage: z.string().nullable(),
    })
    .nullable(),
});
export type LoginReview = z.infer<typeof loginReviewSchema>;

export const approvalCeremonySchema = z.object({
  ceremonyId: z.string(),
  options: webauthnOptionsSchema,
});
export type ApprovalCeremony = z.infer<typeof approvalCeremonySchema>;

export const openApprovalResponseSchema = z.object({
  review: loginReviewSchema,
  /**
   * The phone's capability for this request (approval options, approve, deny): not a QR frame,
   * and it does not change, so the person can take their time to decide. A QR frame or a typed
   * user code is exchanged for it here. (Named for where it comes from; it is never in a QR.)
   */
  qrToken: z.string(),
  approval: approvalCeremonySchema,
});
export type OpenApprovalResponse = z.infer<typeof openApprovalResponseSchema>;

export const approvalOptionsBodySchema = z.object({ qrToken: qrTokenSchema });

export const approveBodySchema = z.object({
  qrToken: qrTokenSchema,
  ceremonyId: ceremonyIdSchema,
  credential: authenticationResponseSchema,
  /** The two digits the computer shows, typed on the phone: needed only when it is far away. */
  checkNumber: z.number().int().min(10).max(99).optional(),
});
export type ApproveBody = z.infer<typeof approveBodySchema>;

export const approveResponseSchema = z.object({
  review: loginReviewSchema,
  user: userViewSchema,
});
export type ApproveResponse = z.infer<typeof approveResponseSchema>;

export const denyBodySchema = z.object({
  qrToken: qrTokenSchema,
  reason: z.enum(["not_me", "cancelled"]),
});
export type DenyBody = z.infer<typeof denyBodySchema>;

export const denyResponseSchema = z.object({
  review: loginReviewSchema,
  /**
   * After "This wasn't me" from a signed-in phone: until when pushes to the person are paused
   * (null when nothing was paused), so the phone can say what happened.
   */
  pushesPausedUntil: z.number().nullable(),
});
export type DenyResponse = z.infer<typeof denyResponseSchema>;

export const loginResponseSchema = z.object({ login: loginViewSchema });
