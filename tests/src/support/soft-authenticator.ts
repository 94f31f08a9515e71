import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { Encoder, type Options as CborOptions } from "cbor-x";

export interface SoftAuthenticatorOptions {
  /** The origin the "browser" reports in clientDataJSON, e.g. "http://localhost:3000". */
  origin: string;
}

export interface StoredSoftCredential {
  /** base64url */
  id: string;
  rpId: string;
  /** base64url */
  userHandle: string;
  signCount: number;
}

export interface CeremonyOverrides {
  /** Report another origin in clientDataJSON (to test origin checks). */
  origin?: string;
  /** Default true; false clears the UV flag. */
  userVerified?: boolean;
  /** Hash another RP ID into authData. */
  rpId?: string;
  /** Force the counter for this assertion (to test counter regression). */
  signCount?: number;
  /**
   * For getAssertion: which credential to use (default: the first in allowCredentials that this
   * authenticator holds, else the most recently created one for the rpId).
   */
  credentialId?: string;
  /** For createCredential: the credential id's length in bytes (default 16 to 32; WebAuthn allows at most 1023). */
  credentialIdBytes?: number;
  /**
   * For createCredential: the public key it reports (default "es256", its P-256 key), to test
   * what a server accepts from a broken or hostile authenticator:
   * - "rs256": a 2048-bit RSA key (alg -257), as Windows Hello makes; it also signs with it.
   * - "rs256-1024": the same with a 1024-bit modulus, too weak to trust.
   * - "eddsa": an Ed25519 key (alg -8), whatever pubKeyCredParams offered; it also signs with it.
   * - "off-curve": its P-256 key with y altered, so the point is not on the curve.
   * - "unknown-kty": its P-256 key under a key type (kty 99) that COSE does not define.
   */
  publicKeyShape?: "es256" | "rs256" | "rs256-1024" | "eddsa" | "off-curve" | "unknown-kty";
}

interface HeldCredential extends StoredSoftCredential {
  privateKey: KeyObject;
}

// WebAuthn verifiers (tiny-cbor inside @simplewebauthn) reject tagged maps and tagged byte strings,
// so maps must be plain CBOR maps and Uint8Arrays must not get cbor-x's Node-only tag 64.
// `useTag259ForMaps` is honoured by cbor-x but missing from its typings, hence the widened type.
const cborOptions: CborOptions & { useTag259ForMaps: boolean } = {
  useRecords: false,
  useTag259ForMaps: false,
  variableMapSize: true,
  mapsAsObjects: false,
  tagUint8Array: false,
};
const cbor = new Encoder(cborOptions);

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;
const COSE_ALG_ES256 = -7;
const COSE_ALG_EDDSA = -8;
const COSE_ALG_RS256 = -257;
/** Not in the IANA COSE Key Types registry. */
const COSE_KTY_UNKNOWN = 99;
// "none" attestation carries no provenance, so the AAGUID is all zeros as in real authenticators.
const AAGUID = Buffer.alloc(16);

function sha256(data: Buffer | string): Buffer {
  return createHash("sha256").update(data).digest();
}

function b64url(data: Buffer | Uint8Array): string {
  return Buffer.from(data).toString("base64url");
}

/** Browsers re-encode the challenge bytes, so a padded or non-canonical challenge comes back canonical. */
function canonicalChallenge(challenge: string): string {
  return b64url(Buffer.from(challenge, "base64url"));
}

function authenticatorData(rpId: string, flags: number, signCount: number, attested?: Buffer): Buffer {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(signCount >>> 0);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), counter, attested ?? Buffer.alloc(0)]);
}

/**
 * COSE_Key for an EC2 P-256 key (or, with `shape`, a broken one); a Map so the labels stay
 * integers in the CBOR.
 */
function coseEc2Key(publicKey: KeyObject, shape: "es256" | "off-curve" | "unknown-kty"): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.x === undefined || jwk.y === undefined) throw new Error("P-256 public key has no x/y coordinates");
  const y = Buffer.from(jwk.y, "base64url");
  // A P-256 x has exactly two points, y and p - y; y with its lowest bit flipped is neither.
  if (shape === "off-curve") y[y.length - 1]! ^= 1;
  const key = new Map<number, number | Buffer>([
    [1, shape === "unknown-kty" ? COSE_KTY_UNKNOWN : 2], // kty: EC2
    [3, COSE_ALG_ES256],
    [-1, 1], // crv: P-256
    [-2, Buffer.from(jwk.x, "base64url")],
    [-3, y],
  ]);
  return cbor.encode(key);
}

/** COSE_Key for an RSA key (RFC 8230). */
function coseRsaKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.n === undefined || jwk.e === undefined) throw new Error("RSA public key has no n/e");
  const key = new Map<number, number | Buffer>([
    [1, 3], // kty: RSA
    [3, COSE_ALG_RS256],
    [-1, Buffer.from(jwk.n, "base64url")],
    [-2, Buffer.from(jwk.e, "base64url")],
  ]);
  return cbor.encode(key);
}

/** COSE_Key for an Ed25519 key (RFC 9053 OKP). */
function coseOkpKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.x === undefined) throw new Error("Ed25519 public key has no x");
  const key = new Map<number, number | Buffer>([
    [1, 1], // kty: OKP
    [3, COSE_ALG_EDDSA],
    [-1, 6], // crv: Ed25519
    [-2, Buffer.from(jwk.x, "base64url")],
  ]);
  return cbor.encode(key);
}

export class SoftAuthenticator {
  private readonly origin: string;
  private readonly credentials: HeldCredential[] = [];

  constructor(options: SoftAuthenticatorOptions) {
    this.origin = options.origin;
  }

  /** Like navigator.credentials.create(): a resident (discoverable) credential. Throws if excludeCredentials lists one it holds. */
  async createCredential(
    options: PublicKeyCredentialCreationOptionsJSON,
    overrides: CeremonyOverrides = {},
  ): Promise<RegistrationResponseJSON> {
    const rpId = options.rp.id ?? this.defaultRpId();
    if (options.excludeCredentials?.some((excluded) => this.find(excluded.id) !== undefined)) {
      throw new Error("InvalidStateError: authenticator already holds an excluded credential");
    }
    // An empty list means "RP default", which includes ES256; a non-empty one must name it.
    const params = options.pubKeyCredParams;
    const shape = overrides.publicKeyShape ?? "es256";
    const rsa = shape === "rs256" || shape === "rs256-1024";
    const alg = shape === "eddsa" ? COSE_ALG_EDDSA : rsa ? COSE_ALG_RS256 : COSE_ALG_ES256;
    if (shape !== "eddsa" && params.length > 0 && !params.some((param) => param.alg === alg)) {
      throw new Error(`NotSupportedError: the options do not offer alg ${alg}`);
    }

    const { publicKey, privateKey } =
      shape === "eddsa"
        ? generateKeyPairSync("ed25519")
        : rsa
          ? generateKeyPairSync("rsa", { modulusLength: shape === "rs256" ? 2048 : 1024 })
          : generateKeyPairSync("ec", { namedCurve: "P-256" });
    const credentialId = randomBytes(overrides.credentialIdBytes ?? 16 + Math.floor(Math.random() * 17));
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credentialId.length);
    const coseKey =
      shape === "eddsa" ? coseOkpKey(publicKey) : rsa ? coseRsaKey(publicKey) : coseEc2Key(publicKey, shape);
    const attested = Buffer.concat([AAGUID, idLength, credentialId, coseKey]);
    const authData = authenticatorData(overrides.rpId ?? rpId, this.flags(overrides) | FLAG_AT, 0, attested);
    const clientDataJSON = this.clientData("webauthn.create", options.challenge, overrides);
    const attestationObject = cbor.encode(
      new Map<string, unknown>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );

    const id = b64url(credentialId);
    this.credentials.push({ id, rpId, userHandle: options.user.id, signCount: 0, privateKey });
    return {
      id,
      rawId: id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ["internal", "hybrid"],
        publicKeyAlgorithm: alg,
        authenticatorData: b64url(authData),
        publicKey: b64url(publicKey.export({ type: "spki", format: "der" })),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /**
   * Like navigator.credentials.get(): returns userHandle (discoverable credentials). Increments the
   * credential's signCount by 1 each call (unless overrides.signCount). Throws if it holds no matching credential.
   */
  async getAssertion(
    options: PublicKeyCredentialRequestOptionsJSON,
    overrides: CeremonyOverrides = {},
  ): Promise<AuthenticationResponseJSON> {
    const rpId = options.rpId ?? this.defaultRpId();
    const credential = this.select(rpId, options, overrides.credentialId);

    // A forced counter never moves the stored one backwards, so a rejected "cloned" assertion
    // doesn't break later honest ones, while a forced jump ahead stays in step with the server.
    const signCount = overrides.signCount ?? credential.signCount + 1;
    credential.signCount = Math.max(credential.signCount, signCount);

    const authData = authenticatorData(overrides.rpId ?? rpId, this.flags(overrides), signCount);
    const clientDataJSON = this.clientData("webauthn.get", options.challenge, overrides);
    // Ed25519 hashes internally, so node takes no digest name for it.
    const digest = credential.privateKey.asymmetricKeyType === "ed25519" ? null : "sha256";
    const signature = sign(digest, Buffer.concat([authData, sha256(clientDataJSON)]), {
      key: credential.privateKey,
      dsaEncoding: "der",
    });

    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key",
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** Credentials held, newest last. */
  listCredentials(): StoredSoftCredential[] {
    // Copies, so callers can't reach the private keys or mutate the counters.
    return this.credentials.map(({ id, rpId, userHandle, signCount }) => ({ id, rpId, userHandle, signCount }));
  }

  private select(
    rpId: string,
    options: PublicKeyCredentialRequestOptionsJSON,
    credentialId: string | undefined,
  ): HeldCredential {
    const forRp = this.credentials.filter((held) => held.rpId === rpId);
    let chosen: HeldCredential | undefined;
    if (credentialId !== undefined) {
      chosen = forRp.find((held) => held.id === credentialId);
    } else if (options.allowCredentials !== undefined && options.allowCredentials.length > 0) {
      const allowed = options.allowCredentials.map((descriptor) => descriptor.id);
      chosen = allowed.map((id) => forRp.find((held) => held.id === id)).find((held) => held !== undefined);
    } else {
      chosen = forRp.at(-1);
    }
    if (chosen === undefined) throw new Error(`NotAllowedError: no matching credential for RP "${rpId}"`);
    return chosen;
  }

  private find(id: string): HeldCredential | undefined {
    return this.credentials.find((held) => held.id === id);
  }

  private flags(overrides: CeremonyOverrides): number {
    return FLAG_UP | (overrides.userVerified === false ? 0 : FLAG_UV);
  }

  private clientData(
    type: "webauthn.create" | "webauthn.get",
    challenge: string,
    overrides: CeremonyOverrides,
  ): Buffer {
    return Buffer.from(
      JSON.stringify({
        type,
        challenge: canonicalChallenge(challenge),
        origin: overrides.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
  }

  private defaultRpId(): string {
    return new URL(this.origin).hostname;
  }
}
