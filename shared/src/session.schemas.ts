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
  /** For a desktop session: the approval it came from. */
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
