import { z } from "zod";
import { approvalCeremonySchema, loginReviewSchema, loginViewSchema } from "./login-request.schemas.js";
import { desktopKeySchema } from "./desktop-key.schemas.js";
import { usernameSchema } from "./user.schemas.js";
import { authenticationResponseSchema } from "./webauthn.schemas.js";
import { ceremonyIdSchema } from "./login-request.schemas.js";

/** Username-first sign-in, sent straight to the person's phones (DESIGN §3.3). */
export const pushLoginBodySchema = z.object({ username: usernameSchema, desktopKey: desktopKeySchema });

/** The same shape whether or not the username exists: no account enumeration. */
export const createPushLoginResponseSchema = z.object({
  login: loginViewSchema,
  desktopSecret: z.string(),
  /** Shown on the desktop; the phone must pick it from three. */
  matchNumber: z.number().int(),
});
export type CreatePushLoginResponse = z.infer<typeof createPushLoginResponseSchema>;

export const pushReviewSchema = loginReviewSchema.extend({ choices: z.array(z.number().int()) });
export type PushReview = z.infer<typeof pushReviewSchema>;

export const inboxResponseSchema = z.object({ requests: z.array(pushReviewSchema) });
export type InboxResponse = z.infer<typeof inboxResponseSchema>;

/** The number the person picked; none for an app's request, which has a message to compare instead. */
export const pushMatchBodySchema = z.object({ choice: z.number().int().min(10).max(99).optional() });
export const pushMatchResponseSchema = z.union([
  z.object({ matched: z.literal(true), review: loginReviewSchema, approval: approvalCeremonySchema }),
  z.object({ matched: z.literal(false), review: loginReviewSchema }),
]);
export type PushMatchResponse = z.infer<typeof pushMatchResponseSchema>;

export const pushApproveBodySchema = z.object({
  ceremonyId: ceremonyIdSchema,
  credential: authenticationResponseSchema,
});
export const pushDenyBodySchema = z.object({ reason: z.enum(["not_me", "cancelled"]) });

export interface PushResolvedPayload {
  id: string;
}
