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
  API_PATHS,
} from "@countersign/shared";
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

let redis: RedisServer;
let dir: string;
const processes: ServerProcess[] = [];

/** Requests for the public origin go to `server`, as a load balancer would send them. */
const via = (server: ServerProcess, url: string): string => url.replace(ORIGIN, server.url);

describe.skipIf(!redisServerAvailable())("the OpenID Provider on two processes sharing Redis", () => {
  beforeAll(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(path.join(tmpdir(), "countersign-oidc-mp-"));
    writeFileSync(path.join(dir, "clients.json"), JSON.stringify([CLIENT]));
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
});
