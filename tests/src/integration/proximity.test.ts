import { afterEach, describe, expect, it } from "vitest";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import {
  API_PATHS,
  type ApprovalCeremony,
  type ErrorResponse,
  type OpenApprovalResponse,
  type CreatePushLoginResponse,
  type InboxResponse,
  type LoginReview,
  type PushMatchResponse,
} from "@countersign/shared";
import { ADDRESSES, testGeoLocator } from "@countersign/server/testing";
import { createLogin, enrolPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/*
 * Where the computer is, through the real server: a desktop and a phone reach it through a proxy
 * on this machine's loopback, which tells it each one's address in X-Forwarded-For. The
 * addresses are real ones whose places in the shipped database are checked (and explained) in
 * server/src/testing/places.ts.
 */

let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The server, and a desktop and a phone whose proxy forwards `desktopAt` and `phoneAt`. */
async function start(options: { env?: Record<string, string>; desktopAt: string; phoneAt: string }) {
  server = await startTestServer({ env: options.env ?? { TRUST_PROXY: "loopback" }, geo: testGeoLocator() });
  const forwarded = (address: string) => ({ "x-forwarded-for": address });
  return {
    origin: server.origin,
    desktop: new HttpClient(server.origin, { userAgent: DESKTOP_UA, headers: forwarded(options.desktopAt) }),
    phone: new HttpClient(server.origin, { userAgent: PHONE_UA, headers: forwarded(options.phoneAt) }),
  };
}

/** What the phone's review shows after opening the desktop's QR code. */
async function qrReview(clients: { desktop: HttpClient; phone: HttpClient }): Promise<LoginReview> {
  const login = await createLogin(clients.desktop);
  return (await openFromQr(clients.phone, login)).review;
}

/** Enrols the phone, sends it a push from the desktop, and returns the push and the phone's inbox. */
async function pushToInbox(clients: { origin: string; desktop: HttpClient; phone: HttpClient }) {
  await enrolPhone(clients.phone, new SoftAuthenticator({ origin: clients.origin }), {
    username: "sam",
    displayName: "Sam",
  });
  const created = await clients.desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username: "sam" });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const inbox = await clients.phone.get<InboxResponse>(API_PATHS.approverInbox);
  expect(inbox.status, JSON.stringify(inbox.body)).toBe(200);
  expect(inbox.body.requests.map((request) => request.id)).toEqual([created.body.login.id]);
  return { created: created.body, listed: inbox.body.requests[0]! };
}

describe("the proximity verdict the phone's review shows, behind a trusted proxy", () => {
  it.each([
    {
      pair: "the same address",
      desktopAt: ADDRESSES.stockholm,
      phoneAt: ADDRESSES.stockholm,
      proximity: { verdict: "same_network", distanceKm: null, otherCountry: false },
      place: "Stockholm, Sweden",
    },
    {
      pair: "the same network (one /24)",
      desktopAt: ADDRESSES.stockholm,
      phoneAt: ADDRESSES.stockholmSameNetwork,
      proximity: { verdict: "same_network", distanceKm: null, otherCountry: false },
      place: "Stockholm, Sweden",
    },
    {
      pair: "the same area (Uppsala and Stockholm)",
      desktopAt: ADDRESSES.uppsala,
      phoneAt: ADDRESSES.stockholm,
      proximity: { verdict: "same_area", distanceKm: 63, otherCountry: false },
      place: "Uppsala, Sweden",
    },
    {
      pair: "the same country, 400 km apart (Gothenburg and Stockholm)",
      desktopAt: ADDRESSES.gothenburg,
      phoneAt: ADDRESSES.stockholm,
      proximity: { verdict: "far_away", distanceKm: 397, otherCountry: false },
      place: "Gothenburg, Sweden",
    },
    {
      pair: "different continents (Sydney and Stockholm)",
      desktopAt: ADDRESSES.sydney,
      phoneAt: ADDRESSES.stockholm,
      proximity: { verdict: "far_away", distanceKm: 15_596, otherCountry: true },
      place: "Sydney, Australia",
    },
  ])("QR: $pair", async ({ desktopAt, phoneAt, proximity, place }) => {
    const review = await qrReview(await start({ desktopAt, phoneAt }));
    expect(review.desktop).toMatchObject({ ip: desktopAt, place });
    expect(review.proximity).toEqual(proximity);
    expect(review.risks.map((risk) => risk.code)).toEqual(proximity.verdict === "far_away" ? ["far_away"] : []);
  });

  it("QR: keeps the verdict on the request for approving, and a nearby phone opening it later cannot undo it", async () => {
    const clients = await start({ desktopAt: ADDRESSES.sydney, phoneAt: ADDRESSES.stockholm });
    const login = await createLogin(clients.desktop);
    const opened = await openFromQr(clients.phone, login);
    const far = { verdict: "far_away", distanceKm: 15_596, otherCountry: true };
    expect(opened.review.proximity).toEqual(far);
    expect((await server!.store.getLoginRequest(login.login.id))?.proximity).toEqual(far);

    // The relayer's own phone, beside the computer, opens the same QR code afterwards.
    const relayer = new HttpClient(clients.origin, {
      userAgent: PHONE_UA,
      headers: { "x-forwarded-for": ADDRESSES.sydney },
    });
    expect((await openFromQr(relayer, login)).review.proximity).toEqual(far);
    expect((await server!.store.getLoginRequest(login.login.id))?.proximity).toEqual(far);
  });

  it("QR: follows the configured threshold and the other-country setting", async () => {
    const wide = await start({
      env: { TRUST_PROXY: "true", PROXIMITY_FAR_KM: "500" },
      desktopAt: ADDRESSES.gothenburg,
      phoneAt: ADDRESSES.stockholm,
    });
    expect((await qrReview(wide)).proximity).toEqual({ verdict: "same_area", distanceKm: 397, otherCountry: false });
    await server!.close();

    const border = await start({
      env: { TRUST_PROXY: "true", PROXIMITY_OTHER_COUNTRY_IS_FAR: "false" },
      desktopAt: ADDRESSES.copenhagenArea,
      phoneAt: ADDRESSES.malmo,
    });
    const review = await qrReview(border);
    expect(review.desktop.place).toBe("Bagsvaerd, Denmark");
    expect(review.proximity).toEqual({ verdict: "same_area", distanceKm: 38, otherCountry: true });
  });

  it("push: the inbox judges each request for the phone asking, and opening it by its number keeps that", async () => {
    const clients = await start({ desktopAt: ADDRESSES.sydney, phoneAt: ADDRESSES.stockholm });
    const { created, listed } = await pushToInbox(clients);
    const far = { verdict: "far_away", distanceKm: 15_596, otherCountry: true };
    expect(listed.desktop).toMatchObject({ ip: ADDRESSES.sydney, place: "Sydney, Australia" });
    expect(listed.proximity).toEqual(far);
    expect(listed.risks.map((risk) => risk.code)).toEqual(["far_away"]);

    const matched = await clients.phone.post<PushMatchResponse>(API_PATHS.pushMatch(created.login.id), {
      choice: created.matchNumber,
    });
    expect(matched.status, JSON.stringify(matched.body)).toBe(200);
    expect(matched.body).toMatchObject({ matched: true, review: { proximity: far } });
    expect((await server!.store.getLoginRequest(created.login.id))?.proximity).toEqual(far);
  });

  it("push: a computer on the phone's own network is the same network", async () => {
    const clients = await start({ desktopAt: ADDRESSES.stockholm, phoneAt: ADDRESSES.stockholmSameNetwork });
    const { listed } = await pushToInbox(clients);
    expect(listed.desktop.place).toBe("Stockholm, Sweden");
    expect(listed.proximity).toEqual({ verdict: "same_network", distanceKm: null, otherCountry: false });
    expect(listed.risks).toEqual([]);
  });

  it("believes only the address the trusted proxy saw, not an entry the client wrote itself", async () => {
    // The client claims Stockholm; the proxy appends the address it really came from.
    const clients = await start({
      desktopAt: `${ADDRESSES.stockholm}, ${ADDRESSES.sydney}`,
      phoneAt: ADDRESSES.stockholm,
    });
    const review = await qrReview(clients);
    expect(review.desktop).toMatchObject({ ip: ADDRESSES.sydney, place: "Sydney, Australia" });
    expect(review.proximity.verdict).toBe("far_away");
  });
});

describe("without TRUST_PROXY", () => {
  it("ignores a forged X-Forwarded-For: the loopback address places nobody, and the verdict is unknown", async () => {
    const clients = await start({ env: {}, desktopAt: ADDRESSES.sydney, phoneAt: ADDRESSES.stockholm });
    const unknown = { verdict: "unknown", distanceKm: null, otherCountry: false };

    const review = await qrReview(clients);
    expect(review.desktop).toMatchObject({ ip: "127.0.0.1", place: null });
    expect(review.proximity).toEqual(unknown);
    expect(review.risks).toEqual([]);

    const { listed } = await pushToInbox(clients);
    expect(listed.desktop).toMatchObject({ ip: "127.0.0.1", place: null });
    expect(listed.proximity).toEqual(unknown);
  });
});

describe("the deliberate extra step when the computer is far away", () => {
  /** Signs the phone's passkey over the opened request's challenge and posts the approval. */
  async function approveWith(
    clients: { origin: string; phone: HttpClient },
    authenticator: SoftAuthenticator,
    opened: OpenApprovalResponse,
    extra: { checkNumber?: number } = {},
  ) {
    const credential = await authenticator.getAssertion(
      opened.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    return clients.phone.post<ErrorResponse>(API_PATHS.loginApprove(opened.review.id), {
      qrToken: opened.qrToken,
      ceremonyId: opened.approval.ceremonyId,
      credential,
      ...extra,
    });
  }

  /** A fresh passkey challenge for the same request, as the approver fetches after a refusal. */
  async function again(phone: HttpClient, opened: OpenApprovalResponse): Promise<OpenApprovalResponse> {
    const options = await phone.post<ApprovalCeremony>(API_PATHS.loginApprovalOptions(opened.review.id), {
      qrToken: opened.qrToken,
    });
    expect(options.status, JSON.stringify(options.body)).toBe(200);
    return { ...opened, approval: options.body };
  }

  async function farQr() {
    const clients = await start({ desktopAt: ADDRESSES.sydney, phoneAt: ADDRESSES.stockholm });
    const authenticator = new SoftAuthenticator({ origin: clients.origin });
    await enrolPhone(clients.phone, authenticator, { username: "sam", displayName: "Sam" });
    const login = await createLogin(clients.desktop);
    const socket = new DesktopSocket(clients.origin);
    sockets.push(socket);
    expect((await socket.watch({ id: login.login.id, desktopSecret: login.desktopSecret })).ok).toBe(true);
    // Nothing to type before a far-away phone opened it.
    expect(login.login.checkNumber).toBeNull();
    const opened = await openFromQr(clients.phone, login);
    const shown = await socket.waitForStatus("scanned");
    return { clients, authenticator, login, opened, checkNumber: shown.checkNumber };
  }

  const sockets: DesktopSocket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  it("QR: the computer shows two digits; a plain approve is refused, the right digits approve", async () => {
    const { clients, authenticator, login, opened, checkNumber } = await farQr();
    expect(checkNumber).toEqual(expect.any(Number));
    const plain = await approveWith(clients, authenticator, opened);
    expect([plain.status, plain.body.error.code]).toEqual([400, "CHECK_DIGITS_REQUIRED"]);
    expect((await server!.store.getLoginRequest(login.login.id))?.status).toBe("scanned");

    const approved = await approveWith(clients, authenticator, await again(clients.phone, opened), {
      checkNumber: checkNumber!,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect((await server!.store.getLoginRequest(login.login.id))?.status).toBe("approved");
  });

  it("QR: wrong digits deny the request, so guessing gets one try", async () => {
    const { clients, authenticator, login, opened, checkNumber } = await farQr();
    const wrong = checkNumber === 99 ? 98 : checkNumber! + 1;
    const refused = await approveWith(clients, authenticator, opened, { checkNumber: wrong });
    expect([refused.status, refused.body.error.code]).toEqual([400, "CHECK_DIGITS_WRONG"]);
    expect(await server!.store.getLoginRequest(login.login.id)).toMatchObject({
      status: "denied",
      denyReason: "number_mismatch",
    });
    // Decided: no new passkey prompt for it, so no second guess.
    const retry = await clients.phone.post<ErrorResponse>(API_PATHS.loginApprovalOptions(opened.review.id), {
      qrToken: opened.qrToken,
    });
    expect([retry.status, retry.body.error.code]).toEqual([409, "LOGIN_CONFLICT"]);
  });

  it("QR: a computer in the phone's area needs no digits", async () => {
    const clients = await start({ desktopAt: ADDRESSES.uppsala, phoneAt: ADDRESSES.stockholm });
    const authenticator = new SoftAuthenticator({ origin: clients.origin });
    await enrolPhone(clients.phone, authenticator, { username: "sam", displayName: "Sam" });
    const login = await createLogin(clients.desktop);
    const opened = await openFromQr(clients.phone, login);
    expect((await approveWith(clients, authenticator, opened)).status).toBe(200);
  });

  it("push: the far-away phone gets no numbers to pick and must type the one the computer shows", async () => {
    const clients = await start({ desktopAt: ADDRESSES.sydney, phoneAt: ADDRESSES.stockholm });
    const { created, listed } = await pushToInbox(clients);
    expect(listed.choices).toEqual([]);
    const typed = await clients.phone.post<PushMatchResponse>(API_PATHS.pushMatch(created.login.id), {
      choice: created.matchNumber,
    });
    expect(typed.body.matched).toBe(true);
    // Without a number, nothing opens: "Pick the number" is the step that cannot be skipped.
    const other = await pushToInboxAgain(clients);
    const skipped = await clients.phone.post<ErrorResponse>(API_PATHS.pushMatch(other.login.id), {});
    expect(skipped.status).toBe(400);
  });
});

/** Another push to the already enrolled phone. */
async function pushToInboxAgain(clients: { desktop: HttpClient }): Promise<CreatePushLoginResponse> {
  const created = await clients.desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username: "sam" });
  expect(created.status).toBe(201);
  return created.body;
}
