import { z } from "zod";
import { sessionKindSchema } from "./session.schemas.js";
import { clientContextViewSchema, passkeyViewSchema } from "./user.schemas.js";

/** One signed-in page or device, as its owner sees it on the phone (DESIGN §3.4). */
export const sessionSummarySchema = z.object({
  id: z.string(),
  kind: sessionKindSchema,
  createdAt: z.number(),
  /** When it was last used (a phone's session slides with use; a computer's counts from sign-in). */
  lastSeenAt: z.number(),
  expiresAt: z.number(),
  context: clientContextViewSchema,
  method: z.enum(["qr", "passkey", "enrolment"]),
  /** The session this request was made with: "This phone". */
  current: z.boolean(),
  /** The passkey that made it; removing that passkey ends it. */
  passkeyId: z.string(),
  /** A phone that gets sign-in notifications (Web Push). */
  notifications: z.boolean(),
});
export type SessionSummary = z.infer<typeof sessionSummarySchema>;

export const sessionsResponseSchema = z.object({ sessions: z.array(sessionSummarySchema) });
export type SessionsResponse = z.infer<typeof sessionsResponseSchema>;

export const activityViewSchema = z.object({
  at: z.number(),
  kind: z.enum(["passkey_enrolled", "login_approved", "login_denied", "fraud_reported", "session_signed_out"]),
  loginRequestId: z.string().nullable(),
  context: clientContextViewSchema.nullable(),
  detail: z.string().nullable(),
});
export type ActivityView = z.infer<typeof activityViewSchema>;

export const activityResponseSchema = z.object({ activity: z.array(activityViewSchema) });
export type ActivityResponse = z.infer<typeof activityResponseSchema>;

export const accountPasskeySchema = passkeyViewSchema.extend({
  /** The passkey this phone signed in with: "This phone". */
  current: z.boolean(),
  /** How many signed-in sessions removing it would end (it made them). */
  sessionCount: z.number().int(),
});
export type AccountPasskey = z.infer<typeof accountPasskeySchema>;

export const passkeysResponseSchema = z.object({ passkeys: z.array(accountPasskeySchema) });

/** After "Sign out every computer": how many computer sessions ended. */
export const signOutComputersResponseSchema = z.object({ signedOut: z.number().int() });
export type SignOutComputersResponse = z.infer<typeof signOutComputersResponseSchema>;
export type PasskeysResponse = z.infer<typeof passkeysResponseSchema>;
