import { z } from "zod";
import {
  clientContextViewSchema,
  denyReasonSchema,
  loginStatusSchema,
  desktopKeySchema,
  proximitySchema,
  sessionKindSchema,
} from "@countersign/shared";
import type {
  ActivityRecord,
  CeremonyRecord,
  CredentialRecord,
  LoginRequestRecord,
  SessionRecord,
  UserRecord,
} from "./store.types.js";

/**
 * Records as read back from Redis: JSON from outside this process is validated like any other
 * input (STYLE §4). `satisfies` keeps each schema in step with its type.
 */
const context = clientContextViewSchema;

export const userRecordSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  webauthnUserId: z.string(),
  createdAt: z.number(),
}) satisfies z.ZodType<UserRecord>;

/** The credential's fixed part; counter and lastUsedAt are separate fields that scripts update. */
export const credentialBodySchema = z.object({
  id: z.string(),
  userId: z.string(),
  publicKey: z.string(),
  transports: z.array(z.string()),
  deviceType: z.enum(["singleDevice", "multiDevice"]),
  backedUp: z.boolean(),
  label: z.string(),
  createdAt: z.number(),
}) satisfies z.ZodType<Omit<CredentialRecord, "counter" | "lastUsedAt">>;

/** A number as Redis hands back a hash field: a decimal string. */
const storedNumber = z
  .string()
  .regex(/^-?\d+(?:\.\d+)?$/, "expected a decimal number")
  .transform(Number);

/** A credential's hash: the JSON body plus the two fields scripts move forward. */
export const credentialFieldsSchema = z.object({
  body: z.string(),
  counter: storedNumber,
  /** "" while the passkey has never been used. */
  lastUsedAt: z.union([z.literal("").transform(() => null), storedNumber]),
});

export const ceremonyRecordSchema = z.intersection(
  z.object({ id: z.string(), challenge: z.string(), expiresAt: z.number() }),
  z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("registration"),
      existingUserId: z.string().nullable(),
      viaLink: z.boolean(),
      username: z.string(),
      displayName: z.string(),
      webauthnUserId: z.string(),
    }),
    z.object({ kind: z.literal("approval"), loginRequestId: z.string() }),
    z.object({ kind: z.literal("passkey_sign_in") }),
    z.object({ kind: z.literal("approver_sign_in") }),
    z.object({ kind: z.literal("enrolment_link"), userId: z.string() }),
  ]),
) satisfies z.ZodType<CeremonyRecord>;

export const loginRequestRecordSchema = z.object({
  id: z.string(),
  status: loginStatusSchema,
  version: z.number().int(),
  createdAt: z.number(),
  expiresAt: z.number(),
  retainUntil: z.number(),
  desktopSecretHash: z.string(),
  userCode: z.string(),
  desktop: context,
  scannedAt: z.number().nullable(),
  scannedBy: context.nullable(),
  decidedAt: z.number().nullable(),
  userId: z.string().nullable(),
  credentialId: z.string().nullable(),
  approver: context.nullable(),
  approvedAt: z.number().nullable(),
  redeemBy: z.number().nullable(),
  denyReason: denyReasonSchema.nullable(),
  push: z
    .object({
      userId: z.string(),
      matchNumber: z.number().int().nullable(),
      choices: z.array(z.number().int()),
      // Written before notifications: it was announced, as far as anyone can tell now.
      delivered: z.boolean().default(true),
    })
    .nullable(),
  // Records written before apps could be named have no such field: they were for Countersign.
  app: z
    .object({
      name: z.string(),
      // Before devices and CIBA, every app came through the browser.
      via: z.enum(["browser", "device", "backchannel"]).default("browser"),
      bindingMessage: z.string().nullable().default(null),
    })
    .nullable()
    .default(null),
  oidc: z
    .object({ kind: z.enum(["device_code", "ciba"]), id: z.string() })
    .nullable()
    .default(null),
  // Records written before the verdict existed have none, as if no phone had opened them yet.
  proximity: proximitySchema.nullable().default(null),
  // Written before far-away checks: none.
  checkNumber: z.number().int().nullable().default(null),
  // Written before desktop keys: such a request can no longer be watched or redeemed.
  desktopKey: desktopKeySchema.nullable().default(null),
}) satisfies z.ZodType<LoginRequestRecord>;

export const sessionRecordSchema = z.object({
  tokenHash: z.string(),
  id: z.string(),
  kind: sessionKindSchema,
  userId: z.string(),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  expiresAt: z.number(),
  context,
  source: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("login_request"),
      loginRequestId: z.string(),
      credentialId: z.string(),
      approver: context,
      approvedAt: z.number(),
    }),
    z.object({ kind: z.literal("enrolment"), credentialId: z.string() }),
    z.object({ kind: z.literal("passkey"), credentialId: z.string() }),
  ]),
  // Sessions written before Web Push have none.
  pushSubscription: z
    .object({
      endpoint: z.string(),
      keys: z.object({ p256dh: z.string(), auth: z.string() }),
      createdAt: z.number(),
    })
    .nullable()
    .default(null),
}) satisfies z.ZodType<SessionRecord>;

export const activityRecordSchema = z.object({
  at: z.number(),
  kind: z.enum(["passkey_enrolled", "login_approved", "login_denied", "fraud_reported", "session_signed_out"]),
  loginRequestId: z.string().nullable(),
  context: context.nullable(),
  detail: z.string().nullable(),
}) satisfies z.ZodType<ActivityRecord>;

/**
 * Validates a value read back from Redis. A value that does not match is corruption: it is
 * reported loudly as an error (the caller sees a 500, the log names the record kind), never
 * returned as half a record and never mistaken for "absent", which could let a write
 * overwrite it.
 */
export function validateStored<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.map(String).join(".")}`;
    throw new Error(`Corrupt ${what} in the store${where}: ${issue?.message ?? "invalid"}.`);
  }
  return result.data;
}

/** Parses a stored JSON string and validates it (see validateStored). */
export function parseStored<T>(schema: z.ZodType<T>, raw: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`Corrupt ${what} in the store: not JSON.`);
  }
  return validateStored(schema, json, what);
}
