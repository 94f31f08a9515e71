import { CEREMONY_TTL_MS, QR_STEP_MS, type AuthenticationResponse } from "@countersign/shared";
import { DESKTOP_KEY } from "../testing/desktop-key.js";
import { describe, expect, it, vi } from "vitest";
import { appErrorOf, DESKTOP, PHONE } from "../testing/fixtures.js";
import { createTestServices, qrCapabilityOf, type TestServices } from "../testing/test-services.js";

const OTHER_PHONE = { ...PHONE, ip: "192.0.2.44", label: "iPhone · Safari", browser: "Safari", os: "iOS 18" };

/** Well-formed, but no enrolled passkey made it. */
const UNKNOWN_PASSKEY: AuthenticationResponse = {
  id: "dW5rbm93bi1wYXNza2V5",
  rawId: "dW5rbm93bi1wYXNza2V5",
  type: "public-key",
  response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA" },
  clientExtensionResults: {},
};

/** A QR request with its first frame (what the QR shows) and the capability opening it gives. */
async function qrRequest(setup: TestServices) {
  const created = await setup.services.logins.createLoginRequest({ desktopKey: DESKTOP_KEY, desktop: DESKTOP });
  const capability = qrCapabilityOf(created.request.id);
  return {
    ...created,
    qrToken: created.qrFrame.token,
    capability,
    proof: { kind: "qr", qrToken: capability } as const,
  };
}

async function pushRequest(setup: TestServices, userId: string) {
  return setup.services.logins.createLoginRequest({
    desktopKey: DESKTOP_KEY,
    desktop: DESKTOP,
    push: { userId, matchNumber: 42, choices: [17, 42, 88], delivered: true },
  });
}

describe("openApproval", () => {
  it("opens a request by its QR link: scanned by this phone, announced, with one passkey prompt started", async () => {
    const setup = createTestServices();
    const { request, qrToken, capability } = await qrRequest(setup);
    setup.clock.advance(3_000);

    const opened = await setup.services.approvals.openApproval({ body: { id: request.id, qrToken }, phone: PHONE });
    expect(opened.request).toMatchObject({
      status: "scanned",
      version: 2,
      scannedBy: PHONE,
      scannedAt: setup.clock.now(),
    });
    expect(opened.capability).toBe(capability);
    expect(opened.capability).not.toBe(qrToken);
    expect(opened.approval.ceremonyId).not.toBe("");
    expect(opened.approval.options).toMatchObject({ rpId: "localhost", userVerification: "required" });
    expect(setup.published.logins.at(-1)).toEqual({ before: request, after: opened.request, actorUserId: null });
  });

  it("refuses a wrong QR token, or another request's, with LOGIN_NOT_FOUND and leaves the request pending", async () => {
    const setup = createTestServices();
    const { request, qrToken } = await qrRequest(setup);
    const other = await qrRequest(setup);

    // Changing the first character changes the token's first byte (the last carries padding bits).
    const altered = (qrToken.startsWith("A") ? "B" : "A") + qrToken.slice(1);
    for (const wrong of [other.qrToken, altered]) {
      const refused = await appErrorOf(
        setup.services.approvals.openApproval({ body: { id: request.id, qrToken: wrong }, phone: PHONE }),
      );
      expect(refused.code).toBe("LOGIN_NOT_FOUND");
    }
    expect((await setup.store.getLoginRequest(request.id))?.status).toBe("pending");
  });

  it("opens by the code typed on the phone and hands back the request's capability for the next steps", async () => {
    const setup = createTestServices();
    const { request, capability } = await qrRequest(setup);
    // The typed code has no time step: it works for as long as the request waits.
    setup.clock.advance(10 * QR_STEP_MS);
    const opened = await setup.services.approvals.openApproval({
      body: { userCode: request.userCode },
      phone: PHONE,
    });
    expect(opened.request).toMatchObject({ id: request.id, status: "scanned" });
    expect(opened.capability).toBe(capability);
  });

  it("opens by the current and the previous step's frame, and refuses one two steps old like a wrong one", async () => {
    const setup = createTestServices();
    const { request, qrToken: first } = await qrRequest(setup);
    const frameNow = (): string => setup.services.logins.currentQrFrame(request.id).token;
    setup.clock.advance(QR_STEP_MS);
    const second = frameNow();
    expect(second).not.toBe(first);
    setup.clock.advance(QR_STEP_MS);
    const third = frameNow();

    const stale = await appErrorOf(
      setup.services.approvals.openApproval({ body: { id: request.id, qrToken: first }, phone: PHONE }),
    );
    expect(stale.code).toBe("LOGIN_NOT_FOUND");
    expect((await setup.store.getLoginRequest(request.id))?.status).toBe("pending");
    for (const frame of [third, second]) {
      const opened = await setup.services.approvals.openApproval({
        body: { id: request.id, qrToken: frame },
        phone: PHONE,
      });
      expect(opened.request.status).toBe("scanned");
    }
  });

  it("never opens by a capability in place of a frame", async () => {
    const setup = createTestServices();
    const { request, capability } = await qrRequest(setup);
    const refused = await appErrorOf(
      setup.services.approvals.openApproval({ body: { id: request.id, qrToken: capability }, phone: PHONE }),
    );
    expect(refused.code).toBe("LOGIN_NOT_FOUND");
  });

  it("refuses a code no request has with LOGIN_NOT_FOUND", async () => {
    const setup = createTestServices();
    await qrRequest(setup);
    const refused = await appErrorOf(
      setup.services.approvals.openApproval({ body: { userCode: "22222222" }, phone: PHONE }),
    );
    expect(refused.code).toBe("LOGIN_NOT_FOUND");
  });

  it("never opens a push request by its user code, nor by its (valid) QR token", async () => {
    const setup = createTestServices();
    const { request, qrFrame } = await pushRequest(setup, "user-ada");
    const qrToken = qrFrame.token;

    const byCode = await appErrorOf(
      setup.services.approvals.openApproval({ body: { userCode: request.userCode }, phone: PHONE }),
    );
    const byQr = await appErrorOf(
      setup.services.approvals.openApproval({ body: { id: request.id, qrToken }, phone: PHONE }),
    );
    expect([byCode.code, byQr.code]).toEqual(["LOGIN_NOT_FOUND", "LOGIN_NOT_FOUND"]);
    expect((await setup.store.getLoginRequest(request.id))?.status).toBe("pending");
  });

  it("keeps the first phone as the one shown when the request is opened again", async () => {
    const setup = createTestServices();
    const { request, qrToken } = await qrRequest(setup);
    await setup.services.approvals.openApproval({ body: { id: request.id, qrToken }, phone: PHONE });
    const again = await setup.services.approvals.openApproval({
      body: { id: request.id, qrToken },
      phone: OTHER_PHONE,
    });
    expect(again.request).toMatchObject({ status: "scanned", version: 3, scannedBy: PHONE });
  });
});

describe("getForPhone", () => {
  it("shows a push request only to the person it was sent to", async () => {
    const setup = createTestServices();
    const { request } = await pushRequest(setup, "user-ada");
    const found = await setup.services.approvals.getForPhone({
      id: request.id,
      proof: { kind: "push", userId: "user-ada" },
    });
    expect(found.id).toBe(request.id);

    const stranger = await appErrorOf(
      setup.services.approvals.getForPhone({ id: request.id, proof: { kind: "push", userId: "user-eve" } }),
    );
    expect(stranger.code).toBe("LOGIN_NOT_FOUND");
  });

  it("does not open a QR request for a signed-in phone that has no capability", async () => {
    const setup = createTestServices();
    const { request } = await qrRequest(setup);
    const refused = await appErrorOf(
      setup.services.approvals.getForPhone({ id: request.id, proof: { kind: "push", userId: "user-ada" } }),
    );
    expect(refused.code).toBe("LOGIN_NOT_FOUND");
  });
});

describe("deny", () => {
  it("records who denied: the signed-in person as the event's actor, the phone, and the reason", async () => {
    const setup = createTestServices();
    const { request, proof } = await qrRequest(setup);
    setup.clock.advance(2_000);

    const denied = await setup.services.approvals.deny({
      id: request.id,
      proof,
      reason: "not_me",
      phone: PHONE,
      actorUserId: "user-ada",
    });
    expect(denied).toMatchObject({
      status: "denied",
      denyReason: "not_me",
      approver: PHONE,
      decidedAt: setup.clock.now(),
    });
    expect(setup.published.logins.at(-1)).toEqual({ before: request, after: denied, actorUserId: "user-ada" });
  });

  it("lets an anonymous phone deny; the event then names no actor", async () => {
    const setup = createTestServices();
    const { request, proof } = await qrRequest(setup);
    await setup.services.approvals.deny({
      id: request.id,
      proof,
      reason: "cancelled",
      phone: PHONE,
      actorUserId: null,
    });
    expect(setup.published.logins.at(-1)).toMatchObject({ after: { status: "denied" }, actorUserId: null });
  });

  it("refuses another request's capability, or a QR frame, with LOGIN_NOT_FOUND and leaves the request pending", async () => {
    const setup = createTestServices();
    const { request, qrToken } = await qrRequest(setup);
    const other = await qrRequest(setup);
    for (const proof of [other.proof, { kind: "qr", qrToken } as const]) {
      const refused = await appErrorOf(
        setup.services.approvals.deny({ id: request.id, proof, reason: "not_me", phone: PHONE, actorUserId: null }),
      );
      expect(refused.code).toBe("LOGIN_NOT_FOUND");
    }
    expect((await setup.store.getLoginRequest(request.id))?.status).toBe("pending");
  });

  it("takes the capability long after the frame that opened the request went stale", async () => {
    const setup = createTestServices();
    const { request, qrToken } = await qrRequest(setup);
    const opened = await setup.services.approvals.openApproval({ body: { id: request.id, qrToken }, phone: PHONE });
    setup.clock.advance(30 * QR_STEP_MS);
    const denied = await setup.services.approvals.deny({
      id: request.id,
      proof: { kind: "qr", qrToken: opened.capability },
      reason: "cancelled",
      phone: PHONE,
      actorUserId: null,
    });
    expect(denied.status).toBe("denied");
  });
});

describe("startApproval", () => {
  it("refuses after expiry with LOGIN_EXPIRED, writing the expiry, before any passkey prompt is stored", async () => {
    const setup = createTestServices();
    const { request, proof } = await qrRequest(setup);
    await setup.services.approvals.open({ id: request.id, proof, phone: PHONE, actorUserId: null });
    // No timer here: the expiry must come from the read itself (the timer may be in another process).
    setup.services.logins.close();
    setup.clock.advance(request.expiresAt - setup.clock.now());
    const stored = vi.spyOn(setup.store, "putCeremonyInGroup");

    const refused = await appErrorOf(setup.services.approvals.startApproval({ id: request.id, proof }));
    expect(refused.code).toBe("LOGIN_EXPIRED");
    expect(stored).not.toHaveBeenCalled();
    expect((await setup.store.getLoginRequest(request.id))?.status).toBe("expired");
  });

  it("refuses a decided request with LOGIN_CONFLICT before any passkey prompt is stored", async () => {
    const setup = createTestServices();
    const { request, proof } = await qrRequest(setup);
    await setup.services.approvals.deny({ id: request.id, proof, reason: "not_me", phone: PHONE, actorUserId: null });
    const stored = vi.spyOn(setup.store, "putCeremonyInGroup");

    const refused = await appErrorOf(setup.services.approvals.startApproval({ id: request.id, proof }));
    expect(refused).toMatchObject({ code: "LOGIN_CONFLICT", message: "This sign-in request is already denied." });
    expect(stored).not.toHaveBeenCalled();
  });

  it("starts at most 10 passkey prompts per request (the open counts); the 11th is RATE_LIMITED, other requests unaffected", async () => {
    const setup = createTestServices();
    const { request, proof } = await qrRequest(setup);
    await setup.services.approvals.open({ id: request.id, proof, phone: PHONE, actorUserId: null });
    for (let prompt = 2; prompt <= 10; prompt += 1) {
      await setup.services.approvals.startApproval({ id: request.id, proof });
    }

    const refused = await appErrorOf(setup.services.approvals.startApproval({ id: request.id, proof }));
    expect(refused.code).toBe("RATE_LIMITED");
    expect(refused.headers["Retry-After"]).toBe(String(CEREMONY_TTL_MS / 1000));

    const other = await qrRequest(setup);
    const opened = await setup.services.approvals.open({
      id: other.request.id,
      proof: other.proof,
      phone: PHONE,
      actorUserId: null,
    });
    expect(opened.approval.ceremonyId).toEqual(expect.any(String));
  });

  it("counts only live prompts: once the first 10 lapse, the request may start more", async () => {
    const setup = createTestServices({ env: { LOGIN_TTL_SECONDS: "3600" } });
    const { request, proof } = await qrRequest(setup);
    await setup.services.approvals.open({ id: request.id, proof, phone: PHONE, actorUserId: null });
    for (let prompt = 2; prompt <= 10; prompt += 1) {
      await setup.services.approvals.startApproval({ id: request.id, proof });
    }
    expect((await appErrorOf(setup.services.approvals.startApproval({ id: request.id, proof }))).code).toBe(
      "RATE_LIMITED",
    );

    setup.clock.advance(CEREMONY_TTL_MS);
    await expect(setup.services.approvals.startApproval({ id: request.id, proof })).resolves.toEqual(
      expect.objectContaining({ ceremonyId: expect.any(String) }),
    );
  });
});

describe("approve: the checks before the passkey (a real assertion is the integration tests')", () => {
  it("refuses a prompt started for another request with CEREMONY_NOT_FOUND, and that prompt is spent", async () => {
    const setup = createTestServices();
    const first = await qrRequest(setup);
    const second = await qrRequest(setup);
    const { approval } = await setup.services.approvals.open({
      id: first.request.id,
      proof: first.proof,
      phone: PHONE,
      actorUserId: null,
    });
    await setup.services.approvals.open({
      id: second.request.id,
      proof: second.proof,
      phone: PHONE,
      actorUserId: null,
    });
    const approve = (target: typeof first) =>
      setup.services.approvals.approve({
        id: target.request.id,
        proof: target.proof,
        ceremonyId: approval.ceremonyId,
        credential: UNKNOWN_PASSKEY,
        phone: PHONE,
      });

    expect((await appErrorOf(approve(second))).code).toBe("CEREMONY_NOT_FOUND");
    expect((await appErrorOf(approve(first))).code).toBe("CEREMONY_NOT_FOUND");
    expect((await setup.store.getLoginRequest(second.request.id))?.status).toBe("scanned");
  });

  it("refuses once the request expired with LOGIN_EXPIRED, before looking at the passkey", async () => {
    const setup = createTestServices();
    const { request, proof } = await qrRequest(setup);
    const { approval } = await setup.services.approvals.open({
      id: request.id,
      proof,
      phone: PHONE,
      actorUserId: null,
    });
    setup.clock.advance(request.expiresAt - setup.clock.now());
    const looked = vi.spyOn(setup.store, "getCredential");

    const refused = await appErrorOf(
      setup.services.approvals.approve({
        id: request.id,
        proof,
        ceremonyId: approval.ceremonyId,
        credential: UNKNOWN_PASSKEY,
        phone: PHONE,
      }),
    );
    expect(refused.code).toBe("LOGIN_EXPIRED");
    expect(looked).not.toHaveBeenCalled();
  });

  it("refuses a denied request with LOGIN_CONFLICT, before looking at the passkey", async () => {
    const setup = createTestServices();
    const { request, proof } = await qrRequest(setup);
    const { approval } = await setup.services.approvals.open({
      id: request.id,
      proof,
      phone: PHONE,
      actorUserId: null,
    });
    await setup.services.approvals.deny({ id: request.id, proof, reason: "not_me", phone: PHONE, actorUserId: null });
    const looked = vi.spyOn(setup.store, "getCredential");

    const refused = await appErrorOf(
      setup.services.approvals.approve({
        id: request.id,
        proof,
        ceremonyId: approval.ceremonyId,
        credential: UNKNOWN_PASSKEY,
        phone: PHONE,
      }),
    );
    expect(refused.code).toBe("LOGIN_CONFLICT");
    expect(looked).not.toHaveBeenCalled();
  });

  it("refuses a passkey nobody enrolled with UNKNOWN_CREDENTIAL and leaves the request scanned", async () => {
    const setup = createTestServices();
    const { request, proof } = await qrRequest(setup);
    const { approval } = await setup.services.approvals.open({
      id: request.id,
      proof,
      phone: PHONE,
      actorUserId: null,
    });

    const refused = await appErrorOf(
      setup.services.approvals.approve({
        id: request.id,
        proof,
        ceremonyId: approval.ceremonyId,
        credential: UNKNOWN_PASSKEY,
        phone: PHONE,
      }),
    );
    expect(refused.code).toBe("UNKNOWN_CREDENTIAL");
    expect((await setup.store.getLoginRequest(request.id))?.status).toBe("scanned");
  });
});
