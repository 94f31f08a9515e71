/**
 * The `acr` value of every Countersign sign-in: a passkey with user verification, on the phone or
 * this device. Documented in the README; clients may require it with `acr_values`.
 */
export const COUNTERSIGN_ACR = "urn:countersign:passkey";

/**
 * RFC 8176 methods for a passkey with user verification: a hardware-bound key, and more than
 * one factor (the device, and the face, fingerprint or PIN that unlocked it).
 */
export const PASSKEY_AMR = ["hwk", "mfa"];
