import { z } from "zod";

/**
 * "Apps you signed in to" on the phone (issue 12): the apps (OpenID clients) a person has let
 * use their Countersign account, and removing one's access.
 */

/** A client id as the clients file allows it: 1–100 letters, digits and . _ ~ - only. */
export const oidcClientIdSchema = z
  .string()
  .regex(/^[\w.~-]{1,100}$/, "expects an app's client id: 1–100 letters, digits and . _ ~ - only");

/** The path parameter of removing an app's access. */
export const oidcAppParamsSchema = z.object({ clientId: oidcClientIdSchema });

/** One app with access to the account, all its grants merged. */
export const oidcAppViewSchema = z.object({
  clientId: oidcClientIdSchema,
  name: z.string(),
  logoUri: z.string().nullable(),
  clientUri: z.string().nullable(),
  /** What it was granted, as scope names ("openid", "profile", "offline_access"). */
  scopes: z.array(z.string()),
  /** When the person first let it in, in ms since the epoch. */
  grantedAt: z.number(),
});
export type OidcAppView = z.infer<typeof oidcAppViewSchema>;

export const oidcAppsResponseSchema = z.object({ apps: z.array(oidcAppViewSchema) });
export type OidcAppsResponse = z.infer<typeof oidcAppsResponseSchema>;

/** What each scope lets an app do, in the person's words (asked at consent, shown after). */
export const OIDC_SCOPE_WORDS: Readonly<Record<string, string>> = {
  openid: "Know it is you (a stable id, not your username)",
  profile: "See your username and your name",
  offline_access: "Stay signed in when you are not using it",
};
