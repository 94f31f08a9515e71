import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import {
  INTERACTION_PATHS,
  parseInteractionPath,
  type CreateLoginResponse,
  type InteractionRedirectResponse,
  type InboxResponse,
  type OpenApprovalResponse,
  type PushMatchResponse,
  API_PATHS,
} from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { approveOpened, enrolPhone, openFromQr } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { redisServerAvailable, startRedisServer, type RedisServer } from "../support/redis-server.js";
import { startServerProcess, type ServerProcess } from "../support/server-process.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/** What a load balancer would present: one public origin in front of both processes. */
const ORIGIN = "http://countersign.test";
const CLIENT = {
  client_id: "notes",
  client_name: "Notes",
  client_secret: "a-long-enough-secret-for-a-confidential-client-0123456789",
  redirect_uris: ["http://localhost:4000/callback"],
};

const TV = {
  client_id: "notes-tv",
  client_name: "Notes on the TV",
  token_endpoint_auth_method: "none",
  grant_types: ["urn:ietf:params:oauth:grant-type:device_code"],
};
const CALL_CENTRE = {
  client_id: "call-centre",
  client_name: "Bank call centre",
  client_secret: "a-long-enough-secret-for-the-call-centre-0123456789",
  grant_types: ["urn:openid:params:grant-type:ciba"],
};

let redis: RedisServer;
let dir: string;
const processes: ServerProcess[] = [];

/** Requests for the public origin go to `server`, as a load balancer would send them. */
const via = (server: ServerProcess, url: string): string => url.replace(ORIGIN, server.url);

describe.skipIf(!redisServerAvailable())("the OpenID Provider on two processes sharing Redis", () => {
  beforeAll(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(path.join(tmpdir(), "countersign-oidc-mp-"));
    writeFileSync(path.join(dir, "clients.json"), JSON.stringify([CLIENT, TV, CALL_CENTRE]));
  });

  afterEach(async () => {
    for (const server of processes.splice(0)) {
      server.kill("SIGKILL");
      await server.exited;
    }
  });

  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts the authorization on A, signs in and consents on A, exchanges the code on B", async () => {
    const env = {
      REDIS_URL: redis.url,
      PUBLIC_ORIGIN: ORIGIN,
      REDIS_KEY_PREFIX: "oidc-mp:",
      OIDC_CLIENTS_FILE: path.join(dir, "clients.json"),
    };
    const [a, b] = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
    processes.push(a, b);
    // Both processes serve the same keys: what A signs, B's JWKS verifies.
    const jwksOf = (server: ServerProcess): Promise<unknown> =>
      fetch(`${server.url}/oidc/jwks`).then((response) => response.json());
    expect(await jwksOf(b)).toEqual(await jwksOf(a));

    const phone = new HttpClient(a.url, { userAgent: PHONE_UA, origin: ORIGIN });
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    await enrolPhone(phone, authenticator, { username: "mira", displayName: "Mira" });

    const onB = await oidc.discovery(new URL(`${ORIGIN}/oidc`), CLIENT.client_id, CLIENT.client_secret, undefined, {
      execute: [oidc.allowInsecureRequests],
      [oidc.customFetch]: (url, options) => fetch(via(b, url), options),
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const start = oidc.buildAuthorizationUrl(onB, {
      redirect_uri: CLIENT.redirect_uris[0]!,
      scope: "openid profile",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
    });

    const browser = new HttpClient(a.url, { userAgent: DESKTOP_UA, origin: ORIGIN });
    /** The browser on A, following the provider's redirects until it reaches a page or the app. */
    const follow = async (url: string): Promise<URL> => {
      let next = new URL(url, ORIGIN);
      for (let hop = 0; hop < 10; hop += 1) {
        const response = await browser.request("GET", via(a, next.toString()));
        const location = response.headers.get("location");
        if (location === null) return next;
        next = new URL(location, next);
        if (next.origin !== ORIGIN || parseInteractionPath(next.pathname) !== null) return next;
      }
      throw new Error("too many redirects");
    };
    const submit = async (path: string): Promise<string> => {
      const response = await browser.post<InteractionRedirectResponse>(path, {});
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.redirectTo;
    };

    const loginUid = parseInteractionPath((await follow(start.toString())).pathname)!;
    expect(loginUid).not.toBeNull();
    const created = await browser.post<CreateLoginResponse>(INTERACTION_PATHS.logins(loginUid), {});
    expect(created.status).toBe(201);
    const approved = await approveOpened(phone, authenticator, await openFromQr(phone, created.body));
    expect(approved.status).toBe(200);
    const redeemed = await browser.post(API_PATHS.loginRedeem(created.body.login.id), {
      desktopSecret: created.body.desktopSecret,
    });
    expect(redeemed.status).toBe(200);
    const consentUid = parseInteractionPath((await follow(await submit(INTERACTION_PATHS.login(loginUid)))).pathname)!;
    const callback = await follow(await submit(INTERACTION_PATHS.consent(consentUid)));
    expect(callback.toString().startsWith(CLIENT.redirect_uris[0]!)).toBe(true);

    const tokens = await oidc.authorizationCodeGrant(onB, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(tokens.claims()).toMatchObject({ amr: ["hwk", "mfa"] });
    const info = await oidc.fetchUserInfo(onB, tokens.access_token, tokens.claims()!.sub);
    expect(info).toMatchObject({ preferred_username: "mira", name: "Mira" });
  });

  it("device and CIBA requests made on A are approved through B and collected on A", async () => {
    const env = {
      REDIS_URL: redis.url,
      PUBLIC_ORIGIN: ORIGIN,
      REDIS_KEY_PREFIX: "oidc-mp-async:",
      OIDC_CLIENTS_FILE: path.join(dir, "clients.json"),
    };
    const [a, b] = await Promise.all([startServerProcess({ env }), startServerProcess({ env })]);
    processes.push(a, b);
    const phone = new HttpClient(b.url, { userAgent: PHONE_UA, origin: ORIGIN });
    const authenticator = new SoftAuthenticator({ origin: ORIGIN });
    const { user } = await enrolPhone(phone, authenticator, { username: "mira", displayName: "Mira" });
    const onA = (client: { client_id: string; client_secret?: string }) =>
      oidc.discovery(new URL(`${ORIGIN}/oidc`), client.client_id, client.client_secret, undefined, {
        execute: [oidc.allowInsecureRequests],
        [oidc.customFetch]: (url, options) => fetch(via(a, url), options),
      });
    const collect = async (config: oidc.Configuration, grant: string, params: Record<string, string>) => {
      try {
        return (await oidc.genericGrantRequest(config, grant, params)).claims()?.sub;
      } catch (error) {
        if (error instanceof oidc.ResponseBodyError) return error.error;
        throw error;
      }
    };

    // The TV asks A; the phone opens and approves on B; A hands out the tokens.
    const tv = await onA(TV);
    const device = await oidc.initiateDeviceAuthorization(tv, { scope: "openid" });
    const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code";
    expect(await collect(tv, deviceGrant, { device_code: device.device_code })).toBe("authorization_pending");
    // The poll interval is counted in Redis: B knows A was just polled.
    const fromB = await fetch(`${b.url}/oidc/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: deviceGrant, device_code: device.device_code, client_id: TV.client_id }),
    });
    expect(((await fromB.json()) as { error: string }).error).toBe("slow_down");
    const opened = await phone.post<OpenApprovalResponse>(API_PATHS.approvalsOpenDevice, {
      userCode: device.user_code,
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(200);
    expect((await approveOpened(phone, authenticator, opened.body)).status).toBe(200);
    expect(await collect(tv, deviceGrant, { device_code: device.device_code })).toBe(user.id);

    // The call centre asks A; the phone's inbox on B has it; approved on B, collected on A.
    const callCentre = await onA(CALL_CENTRE);
    const ciba = await oidc.initiateBackchannelAuthentication(callCentre, {
      scope: "openid",
      login_hint: "mira",
      binding_message: "Call 4711",
    });
    const inbox = await phone.get<InboxResponse>(API_PATHS.approverInbox);
    const review = inbox.body.requests.find((request) => request.app?.bindingMessage === "Call 4711");
    expect(review).toBeDefined();
    const matched = await phone.post<PushMatchResponse>(API_PATHS.pushMatch(review!.id), {});
    if (!matched.body.matched) throw new Error("the app's request did not open");
    const credential = await authenticator.getAssertion(
      matched.body.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    );
    const approved = await phone.post(API_PATHS.pushApprove(review!.id), {
      ceremonyId: matched.body.approval.ceremonyId,
      credential,
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(await collect(callCentre, "urn:openid:params:grant-type:ciba", { auth_req_id: ciba.auth_req_id })).toBe(
      user.id,
    );
  });
});
