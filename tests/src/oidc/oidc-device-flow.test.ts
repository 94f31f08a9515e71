import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as oidc from "openid-client";
import {
  API_PATHS,
  parseApproverDeviceFragment,
  type OpenApprovalResponse,
  type ErrorResponse,
} from "@countersign/shared";
import { approveOpened, enrolPhone } from "../support/flows.js";
import { HttpClient, PHONE_UA } from "../support/http-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { pollGrant, type GrantPoll } from "../support/oidc-sign-in.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
const TV_UA =
  "Mozilla/5.0 (SMART-TV; Linux; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko) Version/7.0 TV Safari/537.36";

/** A TV app: public, no secret, the device grant only (RFC 8628). */
const TV = {
  client_id: "notes-tv",
  client_name: "Notes on the TV",
  token_endpoint_auth_method: "none",
  grant_types: [DEVICE_GRANT, "refresh_token"],
};

let dir: string;
let server: TestServer;
let phone: HttpClient;
let authenticator: SoftAuthenticator;
let userId: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "countersign-device-"));
  writeFileSync(path.join(dir, "clients.json"), JSON.stringify([TV]));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(async () => {
  server = await startTestServer({ env: { OIDC_CLIENTS_FILE: path.join(dir, "clients.json") } });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  userId = (await enrolPhone(phone, authenticator, { username: "olga", displayName: "Olga" })).user.id;
});

afterEach(async () => {
  vi.useRealTimers();
  await server.close();
});

async function discover(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(`${server.origin}/oidc`), TV.client_id, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
}

/** The TV asks for a code, as a TV app would, with its own User-Agent (which openid-client sets for itself). */
async function startOnTheTv(
  config: oidc.Configuration,
  scope = "openid profile offline_access",
): Promise<oidc.DeviceAuthorizationResponse> {
  const response = await fetch(config.serverMetadata().device_authorization_endpoint!, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": TV_UA },
    body: new URLSearchParams({ client_id: TV.client_id, scope }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as oidc.DeviceAuthorizationResponse;
}

/** One poll of the token endpoint: the tokens, or the OAuth error code it answered. */
function poll(config: oidc.Configuration, deviceCode: string): Promise<GrantPoll> {
  return pollGrant(config, DEVICE_GRANT, { device_code: deviceCode });
}

/** The phone follows verification_uri_complete, as its camera would from the TV's QR code. */
async function openOnThePhone(verificationUriComplete: string): Promise<OpenApprovalResponse> {
  const redirect = await phone.request(
    "GET",
    new URL(verificationUriComplete).pathname + new URL(verificationUriComplete).search,
  );
  expect(redirect.status).toBe(303);
  const location = new URL(redirect.headers.get("location")!);
  expect(location.origin + location.pathname).toBe(`${server.origin}/approve/`);
  const fragment = parseApproverDeviceFragment(location.hash);
  expect(fragment).not.toBeNull();
  const opened = await phone.post<OpenApprovalResponse>(API_PATHS.approvalsOpenDevice, {
    userCode: fragment!.userCode,
  });
  expect(opened.status, JSON.stringify(opened.body)).toBe(200);
  return opened.body;
}

describe("Countersign as an OpenID Provider: device authorization grant (RFC 8628)", () => {
  it("advertises the device endpoint, and its verification URI opens the approver with the code", async () => {
    const config = await discover();
    expect(config.serverMetadata().device_authorization_endpoint).toBe(`${server.origin}/oidc/device/auth`);
    const started = await startOnTheTv(config);
    expect(started.user_code).toMatch(
      /^[BCDFGHJKLMNPQRSTVWXZ]{3}-[BCDFGHJKLMNPQRSTVWXZ]{3}-[BCDFGHJKLMNPQRSTVWXZ]{3}$/,
    );
    expect(started.verification_uri).toBe(`${server.origin}/oidc/device`);
    const opened = await openOnThePhone(started.verification_uri_complete!);
    // The phone sees which app, on what device, asks: not a computer, and not Countersign itself.
    expect(opened.review.app).toEqual({ name: "Notes on the TV", via: "device", bindingMessage: null });
    expect(opened.review.desktop).toMatchObject({ ip: "127.0.0.1", os: expect.stringContaining("Tizen") });
    expect(opened.review.status).toBe("scanned");
    // The library's own HTML verification pages are closed: every decision goes through the phone.
    const form = await phone.request("POST", "/oidc/device", { rawBody: `user_code=${started.user_code}` });
    expect(form.status).toBe(404);
  });

  it("answers authorization_pending, slow_down to a fast poll, then tokens once the phone approves", async () => {
    const config = await discover();
    const started = await startOnTheTv(config);
    expect(await poll(config, started.device_code)).toEqual({ error: "authorization_pending" });
    expect(await poll(config, started.device_code)).toEqual({ error: "slow_down" });
    server.clock.advance(5_000);
    expect(await poll(config, started.device_code)).toEqual({ error: "authorization_pending" });

    const opened = await openOnThePhone(started.verification_uri_complete!);
    const approved = await approveOpened(phone, authenticator, opened);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);

    // Right after a poll: once decided, even a fast poll gets its answer.
    const result = await poll(config, started.device_code);
    expect("tokens" in result, JSON.stringify(result)).toBe(true);
    const { tokens } = result as { tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers };
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(userId);
    expect(claims.acr).toBe("urn:countersign:passkey");
    expect(claims.amr).toEqual(["hwk", "mfa"]);
    expect(typeof claims.auth_time).toBe("number");
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const userInfo = await oidc.fetchUserInfo(config, tokens.access_token, userId);
    expect(userInfo).toMatchObject({ sub: userId, preferred_username: "olga", name: "Olga" });

    // A device code is redeemed once; afterwards no device waits for its code.
    expect(await poll(config, started.device_code)).toEqual({ error: "invalid_grant" });
    const again = await phone.post<ErrorResponse>(API_PATHS.approvalsOpenDevice, { userCode: started.user_code });
    expect(again.status).toBe(404);
  });

  it("takes the code typed on the phone, in any case and with or without dashes", async () => {
    const config = await discover();
    const started = await startOnTheTv(config);
    const typed = ` ${started.user_code.toLowerCase().replace(/-/g, " ")} `;
    const opened = await phone.post<OpenApprovalResponse>(API_PATHS.approvalsOpenDevice, { userCode: typed });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    expect((await approveOpened(phone, authenticator, opened.body)).status).toBe(200);
    expect("tokens" in (await poll(config, started.device_code))).toBe(true);
  });

  it("says plainly when no device waits for a code, and refuses what cannot be a code", async () => {
    const unknown = await phone.post<ErrorResponse>(API_PATHS.approvalsOpenDevice, { userCode: "BCD-FGH-JKL" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("LOGIN_NOT_FOUND");
    for (const userCode of ["AEI-OUA-EIO", "BCD-FGH", 42, "x".repeat(100)]) {
      const bad = await phone.post<ErrorResponse>(API_PATHS.approvalsOpenDevice, { userCode });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe("VALIDATION_FAILED");
    }
  });

  it("answers access_denied when the person denies on the phone", async () => {
    const config = await discover();
    const started = await startOnTheTv(config);
    const opened = await openOnThePhone(started.verification_uri_complete!);
    const denied = await phone.post(API_PATHS.loginDeny(opened.review.id), {
      qrToken: opened.qrToken,
      reason: "not_me",
    });
    expect(denied.status).toBe(200);
    expect(await poll(config, started.device_code)).toEqual({ error: "access_denied" });
  });

  it("gives one outcome when two phones race to decide one device's sign-in", async () => {
    const config = await discover();
    const started = await startOnTheTv(config);
    const first = await openOnThePhone(started.verification_uri_complete!);
    const second = await openOnThePhone(started.verification_uri_complete!);
    // Both phones opened the same request, so the usual compare-and-set picks one decision.
    expect(second.review.id).toBe(first.review.id);
    const [approved, denied] = await Promise.all([
      approveOpened(phone, authenticator, first),
      phone.post(API_PATHS.loginDeny(second.review.id), { qrToken: second.qrToken, reason: "cancelled" }),
    ]);
    expect([approved.status, denied.status].filter((status) => status === 200)).toHaveLength(1);
    const outcome = await poll(config, started.device_code);
    if (approved.status === 200) expect("tokens" in outcome).toBe(true);
    else expect(outcome).toEqual({ error: "access_denied" });
  });

  it("answers expired_token after the code's lifetime, and the phone hears it expired", async () => {
    const config = await discover();
    const started = await startOnTheTv(config);
    // oidc-provider keeps time with Date.now(); our requests with the injected clock. Move both.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + (started.expires_in + 1) * 1000 });
    server.clock.advance((started.expires_in + 1) * 1000);
    expect(await poll(config, started.device_code)).toEqual({ error: "expired_token" });
    const late = await phone.post<ErrorResponse>(API_PATHS.approvalsOpenDevice, { userCode: started.user_code });
    expect(late.status).toBe(410);
    expect(late.body.error.code).toBe("LOGIN_EXPIRED");
  });
});
