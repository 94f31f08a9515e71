import { z } from "zod";
import { clientContextViewSchema, userViewSchema } from "./user.schemas.js";

export const sessionKindSchema = z.enum(["desktop", "approver"]);
export type SessionKind = z.infer<typeof sessionKindSchema>;

export const sessionViewSchema = z.object({
  kind: sessionKindSchema,
  user: userViewSchema,
  createdAt: z.number(),
  expiresAt: z.number(),
  context: clientContextViewSchema,
  /** How this session was made: approved on a phone, a passkey on this device, or enrolment. */
  method: z.enum(["qr", "passkey", "enrolment"]),
  /** The passkey that made the session, by its label; null if it has since been removed. */
  passkeyLabel: z.string().nullable(),
  /** For a session approved on a phone: that approval. */
  approvedWith: z
    .object({
      loginRequestId: z.string(),
      passkeyLabel: z.string(),
      approverDevice: z.string(),
      approvedAt: z.number(),
    })
    .nullable(),
});
export type SessionView = z.infer<typeof sessionViewSchema>;

export const sessionResponseSchema = z.object({ session: sessionViewSchema });
export type SessionResponse = z.infer<typeof sessionResponseSchema>;

export const passkeySignInOptionsResponseSchema = z.object({
  ceremonyId: z.string(),
  options: z.record(z.string(), z.unknown()),
});
export type PasskeySignInOptionsResponse = z.infer<typeof passkeySignInOptionsResponseSchema>;
