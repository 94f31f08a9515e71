import { z } from "zod";
import { DISPLAY_NAME_MAX_LENGTH, USERNAME_MAX_LENGTH } from "./constants.js";

/**
 * Usernames are compared case-folded and NFKC-normalised, so "Ana" and "ana" and a
 * full-width "ａｎａ" are one account.
 */
export function normaliseUsername(raw: string): string {
  return raw.normalize("NFKC").trim().toLowerCase();
}

export const usernameSchema = z
  .string()
  .transform(normaliseUsername)
  .pipe(
    z
      .string()
      .min(1, "must not be empty")
      .max(USERNAME_MAX_LENGTH)
      .regex(/^[\p{L}\p{N}._@+-]+$/u, "may use letters, digits and . _ @ + - only"),
  );

export const displayNameSchema = z
  .string()
  .transform((value) => value.normalize("NFKC").trim())
  .pipe(
    z
      .string()
      .min(1, "must not be empty")
      .max(DISPLAY_NAME_MAX_LENGTH)
      // Control characters have no place in a name shown on another person's screen.
      .regex(/^[^\p{Cc}\p{Cf}]+$/u, "must not contain control characters"),
  );

export const userViewSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
});
export type UserView = z.infer<typeof userViewSchema>;

export const deviceTypeSchema = z.enum(["desktop", "mobile", "tablet", "unknown"]);
export type DeviceType = z.infer<typeof deviceTypeSchema>;

/** Where a request came from, as shown to a person deciding about it. */
export const clientContextViewSchema = z.object({
  ip: z.string().nullable(),
  browser: z.string().nullable(),
  os: z.string().nullable(),
  deviceType: deviceTypeSchema,
  /** "Pixel 8 · Chrome", "macOS · Firefox". */
  label: z.string(),
  place: z.string().nullable(),
});
export type ClientContextView = z.infer<typeof clientContextViewSchema>;

export const passkeyViewSchema = z.object({
  id: z.string(),
  label: z.string(),
  createdAt: z.number(),
  lastUsedAt: z.number().nullable(),
  backedUp: z.boolean(),
});
export type PasskeyView = z.infer<typeof passkeyViewSchema>;
