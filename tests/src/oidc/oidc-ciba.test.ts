import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import * as oidc from "openid-client";
import { generate } from "selfsigned";
import { API_PATHS, type InboxResponse, type PushMatchResponse, type PushReview } from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { enrolPhone } from "../support/flows.js";
import { HttpClient, PHONE_UA } from "../support/http-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { pollGrant, type GrantPoll } from "../support/oidc-sign-in.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const CIBA_GRANT = "urn:openid:params:grant-type:ciba";

/** A bank's call centre: its server asks for the person's approval (poll mode). */
const CALL_CENTRE = {
  client_id: "call-centre",
  client_name: "Bank call centre",
  client_secret: "a-long-enough-secret-for-the-call-centre-0123456789",
  grant_types: [CIBA_GRANT, "refresh_token"],
};

/** The same, told by a ping to its own endpoint (ping mode). */
const PINGED = {
  client_id: "pinged",
  client_name: "Pinged app",
  client_secret: "a-long-enough-secret-for-the-pinged-app-0123456789",
  grant_types: [CIBA_GRANT],
  backchannel_token_delivery_mode: "ping",
  // Filled in with the port of the test's endpoint.
  backchannel_client_notification_endpoint: "",
};

let dir: string;
let server: TestServer;
let phone: HttpClient;
let authenticator: SoftAuthenticator;
let userId: string;
let pingEndpoint: Server;
let pings: { authorization: string | undefined; body: unknown }[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "countersign-ciba-"));
  // An app under development on this machine: https, self-signed (OIDC_DEV_LOOPBACK_NOTIFICATIONS).
  const { cert, private: key } = await generate([{ name: "commonName", value: "localhost" }]);
  pingEndpoint = createServer({ cert, key }, (req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      pings.push({ authorization: req.headers.authorization, body: JSON.parse(text) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => pingEndpoint.listen(0, "127.0.0.1", resolve));
  const { port } = pingEndpoint.address() as AddressInfo;
  writeFileSync(
    path.join(dir, "clients.json"),
    JSON.stringify([
      CALL_CENTRE,
      { ...PINGED, backchannel_client_notification_endpoint: `https://localhost:${port}/ciba` },
    ]),
  );
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise((resolve) => pingEndpoint.close(resolve));
});

beforeEach(async () => {
  pings = [];
  server = await startTestServer({
    env: { OIDC_CLIENTS_FILE: path.join(dir, "clients.json"), OIDC_DEV_LOOPBACK_NOTIFICATIONS: "true" },
  });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  authenticator = new SoftAuthenticator({ origin: server.origin });
  userId = (await enrolPhone(phone, authenticator, { username: "olga", displayName: "Olga" })).user.id;
});

afterEach(async () => {
  vi.useRealTimers();
  await server.close();
});

async function discover(client: { client_id: string; client_secret: string }): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(`${server.origin}/oidc`), client.client_id, client.client_secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
}

/** One poll of the token endpoint: the tokens, or the OAuth error code it answered. */
function poll(config: oidc.Configuration, authReqId: string): Promise<GrantPoll> {
  return pollGrant(config, CIBA_GRANT, { auth_req_id: authReqId });
}

async function inbox(): Promise<PushReview[]> {
  const response = await phone.get<InboxResponse>(API_PATHS.approverInbox);
  expect(response.status).toBe(200);
  return response.body.requests;
}

/** The phone compares the app's message, then approves with its passkey. */
async function approveOnThePhone(review: PushReview): Promise<void> {
  const matched = await phone.post<PushMatchResponse>(API_PATHS.pushMatch(review.id), {});
  expect(matched.status, JSON.stringify(matched.body)).toBe(200);
  if (!matched.body.matched) throw new Error("an app's request did not open");
  const credential = await authenticator.getAssertion(
    matched.body.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
  );
  const approved = await phone.post(API_PATHS.pushApprove(review.id), {
    ceremonyId: matched.body.approval.ceremonyId,
    credential,
  });
  expect(approved.status, JSON.stringify(approved.body)).toBe(200);
}

describe("Countersign as an OpenID Provider: CIBA", () => {
  it("poll mode: the person's phone shows the app and its message; approving gives the app tokens", async () => {
    const config = await discover(CALL_CENTRE);
    expect(config.serverMetadata().backchannel_token_delivery_modes_supported).toEqual(["poll", "ping"]);
    const started = await oidc.initiateBackchannelAuthentication(config, {
      scope: "openid profile",
      login_hint: "Olga",
      binding_message: "Call 4711",
    });
    expect(await poll(config, started.auth_req_id)).toEqual({ error: "authorization_pending" });
    expect(await poll(config, started.auth_req_id)).toEqual({ error: "slow_down" });

    const [review] = await inbox();
    expect(review).toMatchObject({
      app: { name: "Bank call centre", via: "backchannel", bindingMessage: "Call 4711" },
      choices: [],
      // The app's server is not where the person is: no network warning about it.
      risks: [],
    });
    // No number to pick for an app's request: a number would be refused, not count as a wrong one.
    const withNumber = await phone.post(API_PATHS.pushMatch(review!.id), { choice: 42 });
    expect(withNumber.status).toBe(400);
    await approveOnThePhone(review!);

    const result = await poll(config, started.auth_req_id);
    expect("tokens" in result, JSON.stringify(result)).toBe(true);
    const { tokens } = result as { tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers };
    expect(tokens.claims()).toMatchObject({ sub: userId, acr: "urn:countersign:passkey", amr: ["hwk", "mfa"] });
    expect(await oidc.fetchUserInfo(config, tokens.access_token, userId)).toMatchObject({ preferred_username: "olga" });
    // Decided and collected: the request has left the phone's inbox.
    expect(await inbox()).toEqual([]);
  });

  it("answers access_denied when the person denies, and pauses the app's further requests after 'This wasn't me'", async () => {
    const config = await discover(CALL_CENTRE);
    const started = await oidc.initiateBackchannelAuthentication(config, { scope: "openid", login_hint: "olga" });
    const [review] = await inbox();
    const denied = await phone.post(API_PATHS.pushDeny(review!.id), { reason: "not_me" });
    expect(denied.status).toBe(200);
    expect(await poll(config, started.auth_req_id)).toEqual({ error: "access_denied" });

    // Paused: the next request is taken exactly as before, but never reaches the phone.
    const next = await oidc.initiateBackchannelAuthentication(config, { scope: "openid", login_hint: "olga" });
    expect(next.auth_req_id).toEqual(expect.any(String));
    expect(await inbox()).toEqual([]);
    expect(await poll(config, next.auth_req_id)).toEqual({ error: "authorization_pending" });
  });

  it("answers an unknown username exactly like a known one, until both expire", async () => {
    const config = await discover(CALL_CENTRE);
    const known = await fetchBackchannel("olga");
    const unknown = await fetchBackchannel("nobody-here");
    expect(unknown.status).toBe(known.status);
    expect(Object.keys(unknown.body).sort()).toEqual(Object.keys(known.body).sort());
    expect(unknown.body.expires_in).toBe(known.body.expires_in);
    expect(await poll(config, unknown.body.auth_req_id)).toEqual(await poll(config, known.body.auth_req_id));

    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + (known.body.expires_in + 1) * 1000 });
    server.clock.advance((known.body.expires_in + 1) * 1000);
    expect(await poll(config, known.body.auth_req_id)).toEqual({ error: "expired_token" });
    expect(await poll(config, unknown.body.auth_req_id)).toEqual({ error: "expired_token" });
  });

  it("refuses what it cannot take with the OAuth errors CIBA names", async () => {
    const bad = async (params: Record<string, string>) => {
      const response = await fetch(`${server.origin}/oidc/backchannel`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(`${CALL_CENTRE.client_id}:${CALL_CENTRE.client_secret}`).toString("base64")}`,
        },
        body: new URLSearchParams({ scope: "openid", ...params }),
      });
      return { status: response.status, error: ((await response.json()) as { error: string }).error };
    };
    expect(await bad({})).toEqual({ status: 400, error: "invalid_request" });
    expect(await bad({ login_hint: "not a username!" })).toEqual({ status: 400, error: "invalid_request" });
    expect(await bad({ login_hint: "olga", binding_message: "<script>alert(1)</script>" })).toEqual({
      status: 400,
      error: "invalid_binding_message",
    });
    expect(await bad({ login_hint_token: "x" })).toEqual({ status: 400, error: "invalid_request" });
    expect(await inbox()).toEqual([]);
  });

  it("ping mode: approving pings the app's endpoint with its token, then the app collects its tokens", async () => {
    const config = await discover(PINGED);
    const started = await oidc.initiateBackchannelAuthentication(config, {
      scope: "openid",
      login_hint: "olga",
      client_notification_token: "app-chosen-token-123",
    });
    const [review] = await inbox();
    await approveOnThePhone(review!);
    await vi.waitFor(() => expect(pings).toHaveLength(1));
    expect(pings[0]).toEqual({
      authorization: "Bearer app-chosen-token-123",
      body: { auth_req_id: started.auth_req_id },
    });
    const result = await poll(config, started.auth_req_id);
    expect("tokens" in result, JSON.stringify(result)).toBe(true);
  });
});

describe("CIBA pings outside development", () => {
  it("a ping never reaches this machine's loopback (the library's SSRF guard, certificate checks); the approval stands", async () => {
    await server.close();
    const lines: string[] = [];
    server = await startTestServer({
      env: { OIDC_CLIENTS_FILE: path.join(dir, "clients.json") },
      logSink: { write: (line: string) => void lines.push(line) },
    });
    phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
    authenticator = new SoftAuthenticator({ origin: server.origin });
    await enrolPhone(phone, authenticator, { username: "olga", displayName: "Olga" });
    const config = await discover(PINGED);
    const started = await oidc.initiateBackchannelAuthentication(config, {
      scope: "openid",
      login_hint: "olga",
      client_notification_token: "app-chosen-token-123",
    });
    const [review] = await inbox();
    await approveOnThePhone(review!);
    await vi.waitFor(() => expect(lines.join("")).toContain("could not settle an app's sign-in"));
    expect(pings).toEqual([]);
    // The result was saved before the ping: an app that polls anyway still gets its tokens.
    expect("tokens" in (await poll(config, started.auth_req_id))).toBe(true);
  });
});

/** The backchannel request by hand, to compare two answers whole. */
async function fetchBackchannel(loginHint: string) {
  const response = await fetch(`${server.origin}/oidc/backchannel`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${CALL_CENTRE.client_id}:${CALL_CENTRE.client_secret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ scope: "openid", login_hint: loginHint, binding_message: "Call 4711" }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { auth_req_id: string; expires_in: number },
  };
}
