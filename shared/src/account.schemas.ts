import { z } from "zod";
import { sessionKindSchema } from "./session.schemas.js";
import { clientContextViewSchema, passkeyViewSchema } from "./user.schemas.js";

/** One signed-in page or device, as its owner sees it on the phone (DESIGN §3.4). */
export const sessionSummarySchema = z.object({
  id: z.string(),
  kind: sessionKindSchema,
  createdAt: z.number(),
  expiresAt: z.number(),
  context: clientContextViewSchema,
  method: z.enum(["qr", "passkey", "enrolment"]),
  /** The session this request was made with. */
  current: z.boolean(),
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

export const passkeysResponseSchema = z.object({ passkeys: z.array(passkeyViewSchema) });
export type PasskeysResponse = z.infer<typeof passkeysResponseSchema>;
