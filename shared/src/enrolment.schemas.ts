import { z } from "zod";
import { ceremonyIdSchema } from "./login-request.schemas.js";
import { displayNameSchema, passkeyViewSchema, usernameSchema, userViewSchema } from "./user.schemas.js";
import {
  authenticationResponseSchema,
  base64url,
  registrationResponseSchema,
  webauthnOptionsSchema,
} from "./webauthn.schemas.js";

export const enrolmentOptionsBodySchema = z.union([
  z.object({ username: usernameSchema, displayName: displayNameSchema }).strict(),
  /** A second phone, with a one-time link made by a signed-in phone of the account. */
  z.object({ enrolmentToken: base64url({ max: 128 }) }).strict(),
]);
export type EnrolmentOptionsBody = z.infer<typeof enrolmentOptionsBodySchema>;

export const enrolmentOptionsResponseSchema = z.object({
  ceremonyId: z.string(),
  options: webauthnOptionsSchema,
});
export type EnrolmentOptionsResponse = z.infer<typeof enrolmentOptionsResponseSchema>;

export const enrolmentVerifyBodySchema = z.object({
  ceremonyId: ceremonyIdSchema,
  credential: registrationResponseSchema,
});
export type EnrolmentVerifyBody = z.infer<typeof enrolmentVerifyBodySchema>;

export const enrolmentVerifyResponseSchema = z.object({
  user: userViewSchema,
  passkey: passkeyViewSchema,
});
export type EnrolmentVerifyResponse = z.infer<typeof enrolmentVerifyResponseSchema>;

/**
 * A sign-in with a passkey alone: on the desktop (the browser's own passkey, hybrid or a security
 * key), or a phone signing in again with the passkey it holds (API_PATHS.approverSignInVerify).
 */
export const passkeySignInVerifyBodySchema = z.object({
  ceremonyId: ceremonyIdSchema,
  credential: authenticationResponseSchema,
});
export type PasskeySignInVerifyBody = z.infer<typeof passkeySignInVerifyBodySchema>;

export const enrolmentLinkResponseSchema = z.object({
  url: z.string(),
  qrSvg: z.string(),
  expiresAt: z.number(),
});
export type EnrolmentLinkResponse = z.infer<typeof enrolmentLinkResponseSchema>;
