import { z } from "zod";

/**
 * The JSON forms of WebAuthn responses, as @simplewebauthn/browser produces them. Validated
 * here so malformed input is a 400 before it reaches the verifier.
 */
const MAX_B64URL = 8192;

export const base64url = (options: { max?: number } = {}): z.ZodString =>
  z
    .string()
    .min(1)
    .max(options.max ?? MAX_B64URL)
    .regex(/^[A-Za-z0-9_-]+$/, "must be base64url without padding");

/** WebAuthn L3 §5.1: a credential id is at most 1023 bytes, which is 1364 base64url characters. */
const credentialId = (): z.ZodString => base64url({ max: 1364 });

const authenticatorAttachment = z.enum(["platform", "cross-platform"]).optional();
const transports = z
  .array(z.enum(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]))
  .max(8)
  .optional();
const clientExtensionResults = z.record(z.string(), z.unknown()).default({});

export const registrationResponseSchema = z.object({
  id: credentialId(),
  rawId: credentialId(),
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: base64url(),
    attestationObject: base64url(),
    authenticatorData: base64url().optional(),
    transports,
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: base64url().optional(),
  }),
  authenticatorAttachment,
  clientExtensionResults,
});

export const authenticationResponseSchema = z.object({
  id: credentialId(),
  rawId: credentialId(),
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: base64url(),
    authenticatorData: base64url(),
    signature: base64url(),
    userHandle: base64url({ max: 128 }).optional(),
  }),
  authenticatorAttachment,
  clientExtensionResults,
});

export type RegistrationResponse = z.infer<typeof registrationResponseSchema>;
export type AuthenticationResponse = z.infer<typeof authenticationResponseSchema>;

/**
 * Options are produced by the server's WebAuthn library and passed through untouched to the
 * browser library; the apps only need to know they are JSON objects.
 */
export const webauthnOptionsSchema = z.record(z.string(), z.unknown());
