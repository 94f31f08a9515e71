import { QR_STEP_MS } from "@countersign/shared";
import { describe, expect, it } from "vitest";
import { createQrTokenSigner, qrStepAt } from "./qr-token.js";

/** The start of a step, far from 0 as real time is. */
const T0 = Date.UTC(2026, 0, 1);
const STEP = qrStepAt(T0);

describe("QR frames", () => {
  const signer = createQrTokenSigner({ key: new Uint8Array(32).fill(7) });

  it("numbers steps by the clock alone, QR_STEP_MS long, the same on every process", () => {
    expect(qrStepAt(T0 + QR_STEP_MS - 1)).toBe(STEP);
    expect(qrStepAt(T0 + QR_STEP_MS)).toBe(STEP + 1);
    expect(QR_STEP_MS).toBe(3_000);
  });

  it("makes a different frame for every step and every request", () => {
    const frames = new Set(
      ["abc", "abd"].flatMap((id) =>
        [0, 1, 2].map((back) => signer.frameFor({ loginRequestId: id, step: STEP + back })),
      ),
    );
    expect(frames.size).toBe(6);
    for (const frame of frames) expect(frame).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("accepts the current step's frame and the previous one's, and refuses one two steps old", () => {
    const now = T0 + 2 * QR_STEP_MS + 500;
    const frameOf = (step: number): string => signer.frameFor({ loginRequestId: "abc", step });
    expect(signer.verifyFrame({ loginRequestId: "abc", token: frameOf(STEP + 2), now })).toBe(true);
    expect(signer.verifyFrame({ loginRequestId: "abc", token: frameOf(STEP + 1), now })).toBe(true);
    expect(signer.verifyFrame({ loginRequestId: "abc", token: frameOf(STEP), now })).toBe(false);
    // Nor one from the future: a frame is only ever made for a step that has begun.
    expect(signer.verifyFrame({ loginRequestId: "abc", token: frameOf(STEP + 3), now })).toBe(false);
  });

  it("refuses another request's frame, an altered one, and an empty one", () => {
    const token = signer.frameFor({ loginRequestId: "abc", step: STEP });
    expect(signer.verifyFrame({ loginRequestId: "abd", token, now: T0 })).toBe(false);
    expect(signer.verifyFrame({ loginRequestId: "abc", token: `${token}x`, now: T0 })).toBe(false);
    expect(signer.verifyFrame({ loginRequestId: "abc", token: "", now: T0 })).toBe(false);
  });

  it("refuses a step that is not an integer", () => {
    expect(() => signer.frameFor({ loginRequestId: "abc", step: 1.5 })).toThrow(/step must be an integer, got 1.5/);
  });
});

describe("capabilities", () => {
  const signer = createQrTokenSigner({ key: new Uint8Array(32).fill(7) });

  it("verifies the capability of its request only, at any time", () => {
    const token = signer.capabilityFor({ loginRequestId: "abc" });
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(signer.verifyCapability({ loginRequestId: "abc", token })).toBe(true);
    expect(signer.verifyCapability({ loginRequestId: "abd", token })).toBe(false);
    expect(signer.verifyCapability({ loginRequestId: "abc", token: `${token}x` })).toBe(false);
  });

  it("never takes a frame for a capability, nor a capability for a frame", () => {
    const capability = signer.capabilityFor({ loginRequestId: "abc" });
    const frame = signer.frameFor({ loginRequestId: "abc", step: STEP });
    expect(signer.verifyCapability({ loginRequestId: "abc", token: frame })).toBe(false);
    expect(signer.verifyFrame({ loginRequestId: "abc", token: capability, now: T0 })).toBe(false);
  });
});

describe("the signer's key", () => {
  it("changes every token", () => {
    const one = createQrTokenSigner({ key: new Uint8Array(32).fill(7) });
    const other = createQrTokenSigner({ key: new Uint8Array(32).fill(8) });
    expect(other.frameFor({ loginRequestId: "abc", step: STEP })).not.toBe(
      one.frameFor({ loginRequestId: "abc", step: STEP }),
    );
    expect(other.capabilityFor({ loginRequestId: "abc" })).not.toBe(one.capabilityFor({ loginRequestId: "abc" }));
  });

  it("must be at least 32 bytes", () => {
    expect(() => createQrTokenSigner({ key: new Uint8Array(16) })).toThrow(/at least 32 bytes/);
  });
});
