import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  API_PATHS,
  ENROLMENT_LINK_TTL_MS,
  type EnrolmentLinkResponse,
  type EnrolmentVerifyResponse,
  type ErrorResponse,
  type PasskeysResponse,
  type SessionResponse,
} from "@countersign/shared";
import {
  approveOpened,
  createLogin,
  enrolPhone,
  enrolWithToken,
  makeEnrolmentLink,
  openFromQr,
} from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const IPHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

let server: TestServer;
let firstPhone: HttpClient;
const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

beforeEach(async () => {
  server = await startTestServer();
  firstPhone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  await enrolPhone(firstPhone, new SoftAuthenticator({ origin: server.origin }), {
    username: "two",
    displayName: "Two",
  });
});

afterEach(async () => {
  await server.close();
});

const makeLink = async (): Promise<{ link: EnrolmentLinkResponse; token: string }> => makeEnrolmentLink(firstPhone);

describe("a second phone joins the account with a one-time link", () => {
  it("enrols the second phone into the same account, signed in, and its passkey approves sign-ins", async () => {
    const { link, token } = await makeLink();
    expect(link.qrSvg).toMatch(/^<svg/);
    expect(link.expiresAt).toBe(server.clock.now() + ENROLMENT_LINK_TTL_MS);

    const secondPhone = new HttpClient(server.origin, { userAgent: IPHONE_UA });
    const secondKey = new SoftAuthenticator({ origin: server.origin });
    const enrolled = await enrolWithToken(secondPhone, secondKey, token);
    expect(enrolled.status).toBe(201);
    expect((enrolled.body as EnrolmentVerifyResponse).user.username).toBe("two");
    expect((await secondPhone.get<SessionResponse>(API_PATHS.approverSession)).body.session.user.username).toBe("two");

    const passkeys = await firstPhone.get<PasskeysResponse>(API_PATHS.approverPasskeys);
    expect(passkeys.body.passkeys.map((passkey) => passkey.label)).toEqual(["Pixel 8 · Chrome", "iPhone · Safari"]);
    const login = await createLogin(new HttpClient(server.origin, { userAgent: DESKTOP_UA }));
    expect((await approveOpened(secondPhone, secondKey, await openFromQr(secondPhone, login))).status).toBe(200);
  });

  it("works once", async () => {
    const { token } = await makeLink();
    const first = await enrolWithToken(
      new HttpClient(server.origin, { userAgent: IPHONE_UA }),
      new SoftAuthenticator({ origin: server.origin }),
      token,
    );
    expect(first.status).toBe(201);
    const again = await enrolWithToken(
      new HttpClient(server.origin, { userAgent: IPHONE_UA }),
      new SoftAuthenticator({ origin: server.origin }),
      token,
    );
    expect([again.status, codeOf(again.body)]).toEqual([400, "CEREMONY_NOT_FOUND"]);
  });

  it("expires in minutes", async () => {
    const { token } = await makeLink();
    server.clock.advance(ENROLMENT_LINK_TTL_MS);
    const late = await enrolWithToken(
      new HttpClient(server.origin, { userAgent: IPHONE_UA }),
      new SoftAuthenticator({ origin: server.origin }),
      token,
    );
    expect([late.status, codeOf(late.body)]).toEqual([400, "CEREMONY_NOT_FOUND"]);
    const user = await server.store.findUserByUsername("two");
    expect(await server.store.listCredentials(user!.id)).toHaveLength(1);
  });

  it("can only be made by a phone signed in to the account, and a guessed token gets nowhere", async () => {
    const stranger = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const refused = await stranger.post(API_PATHS.approverEnrolmentLinks, {});
    expect([refused.status, codeOf(refused.body)]).toEqual([401, "UNAUTHENTICATED"]);
    const guessed = await enrolWithToken(stranger, new SoftAuthenticator({ origin: server.origin }), "A".repeat(43));
    expect(codeOf(guessed.body)).toBe("CEREMONY_NOT_FOUND");
    // The link's token is never stored as such.
    const { token } = await makeLink();
    expect(await server.store.takeCeremony(token)).toBeNull();
  });
});
