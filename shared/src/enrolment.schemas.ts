import { z } from "zod";
import { ceremonyIdSchema } from "./login-request.schemas.js";
import { displayNameSchema, passkeyViewSchema, usernameSchema, userViewSchema } from "./user.schemas.js";
import { authenticationResponseSchema, registrationResponseSchema, webauthnOptionsSchema } from "./webauthn.schemas.js";

export const enrolmentOptionsBodySchema = z.object({
  username: usernameSchema,
  displayName: displayNameSchema,
});
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

/** A direct passkey sign-in on the desktop: the browser's own passkey, hybrid or security key. */
export const passkeySignInVerifyBodySchema = z.object({
  ceremonyId: ceremonyIdSchema,
  credential: authenticationResponseSchema,
});
export type PasskeySignInVerifyBody = z.infer<typeof passkeySignInVerifyBodySchema>;
