import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import {
  API_PATHS,
  type ErrorResponse,
  type PasskeySignInOptionsResponse,
  type SessionResponse,
} from "@countersign/shared";
import { createMemoryStore, createRedisStore, type Store } from "@countersign/server";
import type { FakeClock } from "@countersign/server/testing";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { enrolPhone } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA, type ApiResponse } from "../support/http-client.js";
import { REDIS_INSTALL_HINT } from "../support/redis-server.js";
import { SoftAuthenticator, type CeremonyOverrides } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const RACERS = 12;
const codeOf = (body: unknown): string => (body as ErrorResponse).error.code;

const redisUrl = inject("redisUrl");
if (redisUrl === null) {
  // Loud on purpose: a skipped suite must not pass for a green one.
  // eslint-disable-next-line no-console
  console.warn(`\n*** SKIPPING the Redis cases of passkey-counter.test.ts: ${REDIS_INSTALL_HINT}.\n`);
}
let redis: Redis | undefined;

beforeAll(async () => {
  if (redisUrl === null) return;
  redis = new Redis(redisUrl);
  await redis.ping();
});

afterAll(async () => {
  await redis?.quit();
});

/**
 * The store the server gets, with one addition: once armed, credential reads are held until
 * `count` of them wait, then all go on together. That is the interleaving in which every racer
 * has read the counter before any has written it, every time rather than when timing allows.
 */
function withCredentialReadBarrier(inner: Store): { store: Store; holdCredentialReads(count: number): void } {
  let waiting: (() => void)[] = [];
  let holdFor = 0;
  const getCredential: Store["getCredential"] = async (id) => {
    if (holdFor > 0) {
      await new Promise<void>((release) => {
        waiting.push(release);
        if (waiting.length < holdFor) return;
        holdFor = 0;
        for (const go of waiting.splice(0)) go();
      });
    }
    return inner.getCredential(id);
  };
  const store = new Proxy(inner, {
    get: (target, property, receiver): unknown =>
      property === "getCredential" ? getCredential : Reflect.get(target, property, receiver),
  });
  return {
    store,
    holdCredentialReads(count) {
      holdFor = count;
      waiting = [];
    },
  };
}

const stores: { name: string; skip: boolean; make: (clock: FakeClock) => Store }[] = [
  { name: "memory", skip: false, make: (clock) => createMemoryStore({ clock }) },
  {
    name: "redis",
    skip: redisUrl === null,
    make: (clock) => createRedisStore({ redis: redis!, clock, keyPrefix: `test:${randomUUID()}:` }),
  },
];

describe.each(stores)("the signature counter, with the $name store", ({ skip, make }) => {
  let server: TestServer;
  let passkey: SoftAuthenticator;
  let holdCredentialReads: (count: number) => void;

  async function start(): Promise<void> {
    server = await startTestServer({
      store: (clock) => {
        const barrier = withCredentialReadBarrier(make(clock));
        holdCredentialReads = barrier.holdCredentialReads;
        return barrier.store;
      },
    });
    passkey = new SoftAuthenticator({ origin: server.origin });
    await enrolPhone(new HttpClient(server.origin, { userAgent: PHONE_UA }), passkey, {
      username: "counter",
      displayName: "Counter",
    });
  }

  afterEach(async () => {
    await server?.close();
  });

  /** Direct sign-ins, each on its own desktop: all prompts started and signed first, then all posted at once. */
  async function signInAtOnce(
    count: number,
    options: CeremonyOverrides & { beforePosting?: () => void },
  ): Promise<ApiResponse<SessionResponse>[]> {
    const { beforePosting, ...overrides } = options;
    const prepared = [];
    for (let index = 0; index < count; index += 1) {
      const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
      const start = await desktop.post<PasskeySignInOptionsResponse>(API_PATHS.passkeySignInOptions, {});
      expect(start.status, JSON.stringify(start.body)).toBe(200);
      const credential = await passkey.getAssertion(
        start.body.options as unknown as PublicKeyCredentialRequestOptionsJSON,
        overrides,
      );
      prepared.push({ desktop, body: { ceremonyId: start.body.ceremonyId, credential } });
    }
    beforePosting?.();
    return Promise.all(
      prepared.map(({ desktop, body }) => desktop.post<SessionResponse>(API_PATHS.passkeySignInVerify, body)),
    );
  }

  const credentialId = (): string => passkey.listCredentials()[0]!.id;

  it.skipIf(skip)(`accepts only one of ${RACERS} assertions sent at once with the same counter`, async () => {
    await start();
    const answers = await signInAtOnce(RACERS, { signCount: 5, beforePosting: () => holdCredentialReads(RACERS) });
    const statuses = answers.map((answer) => answer.status);
    expect(
      statuses.filter((status) => status === 200),
      JSON.stringify(statuses),
    ).toHaveLength(1);
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(new Set(refused.map((answer) => `${answer.status} ${codeOf(answer.body)}`))).toEqual(
      new Set(["400 WEBAUTHN_VERIFICATION_FAILED"]),
    );
    for (const answer of refused) expect((answer.body as unknown as ErrorResponse).error.message).toMatch(/cloned/);
    expect((await server.store.getCredential(credentialId()))?.counter).toBe(5);
    // The honest authenticator carries on from there.
    const [next] = await signInAtOnce(1, {});
    expect(next?.status, JSON.stringify(next?.body)).toBe(200);
    expect((await server.store.getCredential(credentialId()))?.counter).toBe(6);
  });

  it.skipIf(skip)("keeps accepting an authenticator that always reports counter 0, recording each use", async () => {
    await start();
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      server.clock.advance(1_000);
      const [answer] = await signInAtOnce(1, { signCount: 0 });
      expect(answer?.status, JSON.stringify(answer?.body)).toBe(200);
      expect(await server.store.getCredential(credentialId())).toMatchObject({
        counter: 0,
        lastUsedAt: server.clock.now(),
      });
    }
    // Counter-less authenticators give no clone signal; concurrent uses are all genuine as far as anyone can tell.
    const answers = await signInAtOnce(3, { signCount: 0 });
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
  });
});
