import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  API_PATHS,
  approvalOptionsBodySchema,
  approveBodySchema,
  denyBodySchema,
  desktopSecretBodySchema,
  enrolmentOptionsBodySchema,
  enrolmentVerifyBodySchema,
  ERROR_CODES,
  ERROR_STATUS,
  loginIdSchema,
  oidcClientIdSchema,
  loginUnwatchPayloadSchema,
  loginWatchPayloadSchema,
  MAX_BODY_BYTES,
  openApprovalBodySchema,
  openDeviceApprovalBodySchema,
  createLoginBodySchema,
  redeemBodySchema,
  passkeySignInVerifyBodySchema,
  pushSubscriptionBodySchema,
  pushApproveBodySchema,
  pushDenyBodySchema,
  pushLoginBodySchema,
  pushMatchBodySchema,
  SOCKET_EVENTS,
  type ErrorCode,
  type ErrorResponse,
} from "@countersign/shared";
import { createMemoryStore } from "@countersign/server";
import { newDesktopKey } from "../support/desktop-key.js";
import { enrolPhone } from "../support/flows.js";
import { HttpClient, PHONE_UA } from "../support/http-client.js";
import { createRecordingStore, type RecordingStore } from "../support/recording-store.js";
import { DesktopSocket } from "../support/socket-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

/** Fixed, so that a failure replays. */
const SEED = 20_261_127;
/** Marks fuzzed bodies, so the logs can be searched for any that leaked. */
const CANARY = "canary-5f3a";
const ACK_TIMEOUT_MS = 2_000;
const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
/** A well-formed public key of a desktop page, for bodies that must pass validation. */
const SAMPLE_DESKTOP_KEY = (await newDesktopKey()).publicKey;

interface Schema {
  safeParse(input: unknown): { success: boolean };
}
type Method = "GET" | "POST" | "PUT" | "DELETE";
interface RouteSpec {
  methods: readonly Method[];
  /** The schema the route parses its body with; null if it reads no body. */
  body: Schema | null;
  /** A body the route accepts: a transport fault must stop it before the route sees it. */
  sample?: object;
  /** Which ids a path parameter takes: login ids, an app's client id, or any string the store may hold. */
  id?: "login" | "client" | "opaque";
  /** False for a path the server does not serve: it must still answer a clean 404. */
  served?: false;
}

/** Every path of API_PATHS with its methods; the `satisfies` makes a new path fail to compile here. */
const ROUTES = {
  logins: { methods: ["POST"], body: createLoginBodySchema, sample: { desktopKey: SAMPLE_DESKTOP_KEY } },
  login: { methods: ["GET"], body: null, id: "login", served: false },
  loginCancel: { methods: ["POST"], body: desktopSecretBodySchema, id: "login" },
  loginRedeem: { methods: ["POST"], body: redeemBodySchema, id: "login" },
  loginApprovalOptions: { methods: ["POST"], body: approvalOptionsBodySchema, id: "login" },
  loginApprove: { methods: ["POST"], body: approveBodySchema, id: "login" },
  loginDeny: { methods: ["POST"], body: denyBodySchema, id: "login" },
  approvalsOpen: { methods: ["POST"], body: openApprovalBodySchema, sample: { userCode: "2345-6789" } },
  approvalsOpenDevice: {
    methods: ["POST"],
    body: openDeviceApprovalBodySchema,
    sample: { userCode: "BCD-FGH-JKL" },
  },
  enrolmentOptions: {
    methods: ["POST"],
    body: enrolmentOptionsBodySchema,
    sample: { username: "fuzz", displayName: "Fuzz" },
  },
  enrolmentVerify: { methods: ["POST"], body: enrolmentVerifyBodySchema },
  passkeySignInOptions: { methods: ["POST"], body: null },
  passkeySignInVerify: { methods: ["POST"], body: passkeySignInVerifyBodySchema },
  session: { methods: ["GET", "DELETE"], body: null },
  approverSession: { methods: ["GET", "DELETE"], body: null },
  approverSessions: { methods: ["GET"], body: null },
  approverSessionById: { methods: ["DELETE"], body: null, id: "opaque" },
  approverActivity: { methods: ["GET"], body: null },
  approverPasskeys: { methods: ["GET"], body: null },
  approverEnrolmentLinks: { methods: ["POST"], body: null },
  approverInbox: { methods: ["GET"], body: null },
  pushLogins: {
    methods: ["POST"],
    body: pushLoginBodySchema,
    sample: { username: "prober", desktopKey: SAMPLE_DESKTOP_KEY },
  },
  pushMatch: { methods: ["POST"], body: pushMatchBodySchema, id: "login" },
  pushApprove: { methods: ["POST"], body: pushApproveBodySchema, id: "login" },
  pushDeny: { methods: ["POST"], body: pushDenyBodySchema, id: "login" },
  approverPasskey: { methods: ["DELETE"], body: null, id: "opaque" },
  approverApps: { methods: ["GET"], body: null },
  approverApp: { methods: ["DELETE"], body: null, id: "client" },
  approverSignInOptions: { methods: ["POST"], body: null },
  approverSignInVerify: { methods: ["POST"], body: passkeySignInVerifyBodySchema },
  approverSignOutComputers: { methods: ["POST"], body: null },
  approverPushKey: { methods: ["GET"], body: null },
  approverPushSubscription: { methods: ["PUT", "GET", "DELETE"], body: pushSubscriptionBodySchema },
} satisfies Record<keyof typeof API_PATHS, RouteSpec>;

type Route = keyof typeof API_PATHS;
/** A route and one of its methods: names only, so that fast-check's report stays readable. */
interface Endpoint {
  route: Route;
  method: Method;
}
const specOf = (endpoint: Endpoint): RouteSpec => ROUTES[endpoint.route];
const ENDPOINTS: Endpoint[] = (Object.keys(ROUTES) as Route[]).flatMap((route) =>
  ROUTES[route].methods.map((method) => ({ route, method })),
);
const VALID_LOGIN_ID = "AAAAAAAAAAAAAAAAAAAAAA";
/** The longest passkey or session id the account routes take (their own schema, not shared). */
const OPAQUE_ID_MAX_LENGTH = 1364;

/** The route's path with `param` in place of its id, exactly as given: no encoding, nothing fixed. */
function pathOf(route: Route, param = VALID_LOGIN_ID): string {
  const path = API_PATHS[route];
  return typeof path === "function" ? path(":id").replace(":id", param) : path;
}

// --- generators -------------------------------------------------------------------------------

type Caller = { origin: "self" | "none" | "other"; cookie: "none" | "phone" | "junk" };
const callerArb: fc.Arbitrary<Caller> = fc.record({
  origin: fc.oneof({ arbitrary: fc.constant("self" as const), weight: 8 }, fc.constantFrom("none", "other")),
  cookie: fc.constantFrom("none", "phone", "junk"),
});
const base64urlArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const DECODERS = { gzip: gunzipSync, deflate: inflateSync, br: brotliDecompressSync };
const ENCODERS = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };
type Coding = keyof typeof DECODERS;
const codingArb = fc.constantFrom<Coding>("gzip", "deflate", "br");
/** Whether `bytes` really are what `coding` claims: such a body is not malformed. */
const decodes = (coding: Coding, bytes: Uint8Array): boolean => {
  try {
    DECODERS[coding](bytes);
    return true;
  } catch {
    return false;
  }
};
/** Whether body-parser would accept these bytes as a JSON body (an object or an array). */
const isJsonContainer = (bytes: Uint8Array): boolean => {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === "object" && value !== null;
  } catch {
    return bytes.length === 0; // body-parser reads an empty body as {}
  }
};

interface Transport {
  headers: Record<string, string>;
  body: Uint8Array;
  expected: ErrorCode;
}
const JSON_TYPE = { "content-type": "application/json" };

/** Bodies that are wrong on the wire; all but a wrong Content-Type apply to every method. */
function transportArb(endpoint: Endpoint): fc.Arbitrary<Transport> {
  const sample = encode(JSON.stringify(specOf(endpoint).sample ?? {}));
  const compressed = (coding: Coding, bytes: Uint8Array): Transport => ({
    headers: { ...JSON_TYPE, "content-encoding": coding },
    body: bytes,
    expected: "MALFORMED_REQUEST",
  });
  const faults: fc.Arbitrary<Transport>[] = [
    // Garbage, sometimes behind a real gzip header, claiming to be compressed.
    fc
      .tuple(codingArb, fc.uint8Array({ maxLength: 200 }), fc.boolean())
      .map(([coding, bytes, magic]) =>
        compressed(coding, magic ? Buffer.concat([Buffer.from([31, 139, 8]), bytes]) : bytes),
      )
      .filter((t) => !decodes(t.headers["content-encoding"] as Coding, t.body)),
    // A real body, compressed, then cut short; or compressed one way and labelled another.
    fc
      .tuple(codingArb, codingArb, fc.nat())
      .map(([made, claimed, cut]) => {
        const full = ENCODERS[made](sample);
        return compressed(claimed, made === claimed ? full.subarray(0, cut % full.length) : full);
      })
      .filter((t) => !decodes(t.headers["content-encoding"] as Coding, t.body)),
    fc
      .oneof(
        fc.constantFrom("compress", "x-gzip", "gzip, br", "identity, gzip", "bzip2", "*"),
        fc
          .stringMatching(/^[a-z][a-z0-9-]{0,11}$/)
          .filter((c) => !["identity", "gzip", "deflate", "br", "zstd"].includes(c)),
      )
      .map((coding) => ({
        headers: { ...JSON_TYPE, "content-encoding": coding },
        body: sample,
        expected: "UNSUPPORTED_MEDIA_TYPE",
      })),
    fc
      .oneof(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.string({ unit: "binary", maxLength: 100 }).map((tail) => encode(`{"${CANARY}":"${tail}`)),
      )
      .filter((body) => !isJsonContainer(body))
      .chain((body) =>
        fc.constantFrom<Transport>(
          { headers: JSON_TYPE, body, expected: "INVALID_JSON" },
          { headers: { ...JSON_TYPE, "content-encoding": "identity" }, body, expected: "INVALID_JSON" },
        ),
      ),
    fc
      .oneof(
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
      )
      .map((value) => ({ headers: JSON_TYPE, body: encode(JSON.stringify(value)), expected: "INVALID_JSON" })),
    fc
      .oneof(
        fc.constantFrom("latin1", "iso-8859-1", "us-ascii", "windows-1252", "utf8", "utf-foo", "utf-", "ucs-2"),
        fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).filter((charset) => !charset.startsWith("utf-")),
      )
      .map((charset) => ({
        headers: { "content-type": `application/json; charset=${charset}` },
        body: sample,
        expected: "UNSUPPORTED_MEDIA_TYPE",
      })),
    fc.tuple(fc.integer({ min: MAX_BODY_BYTES + 1, max: 4 * MAX_BODY_BYTES }), fc.boolean()).map(([size, zipped]) => {
      const big = encode(`{"pad":"${"x".repeat(size)}"}`);
      return zipped
        ? { headers: { ...JSON_TYPE, "content-encoding": "gzip" }, body: gzipSync(big), expected: "PAYLOAD_TOO_LARGE" }
        : { headers: JSON_TYPE, body: big, expected: "PAYLOAD_TOO_LARGE" };
    }),
  ];
  if (endpoint.method === "POST" || endpoint.method === "PUT") {
    faults.push(
      fc
        .constantFrom(
          null,
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/ld+json",
          "text/json",
        )
        .map((type): Transport => ({
          headers: type === null ? {} : { "content-type": type },
          body: sample,
          expected: "UNSUPPORTED_MEDIA_TYPE",
        })),
    );
  }
  return fc.oneof(...faults);
}

/** %-escapes that decodeURIComponent refuses: bad hex, cut-off and invalid UTF-8 sequences. */
const brokenEscapeArb = fc.constantFrom(
  "%",
  "%z",
  "%zz",
  "%G0",
  "%E0%A4%A",
  "%ED%A0%80",
  "%C0%80",
  "%FF",
  "%C3",
  "%80",
  "%F4%90%80%80",
);
const segmentCharsArb = fc.string({
  unit: fc.constantFrom("A", "z", "9", "-", "_", ".", "~", "%41", "%C3%A9", "%00"),
  maxLength: 6,
});
const decodesAsUri = (param: string): boolean => {
  try {
    decodeURIComponent(param);
    return true;
  } catch {
    return false;
  }
};
const brokenParamArb = fc
  .tuple(segmentCharsArb, brokenEscapeArb, segmentCharsArb)
  .map((parts) => parts.join(""))
  .filter((param) => !decodesAsUri(param));
/** Params that decode fine but are no id: unicode, NUL, a dot, or far too long. */
const oddParamArb = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).map(encodeURIComponent),
  fc.constantFrom("%00", "a%00b", "%E2%80%AE", "%EF%BB%BF", "%F0%9F%92%A5", "."),
  fc.integer({ min: OPAQUE_ID_MAX_LENGTH + 1, max: 3_000 }).map((length) => "A".repeat(length)),
);

/** Plausible values for every field the API reads, so that bodies come near the schemas. */
const credentialArb = fc.record(
  {
    id: base64urlArb,
    rawId: base64urlArb,
    type: fc.constantFrom("public-key", "password"),
    response: fc.record(
      {
        clientDataJSON: base64urlArb,
        authenticatorData: base64urlArb,
        signature: base64urlArb,
        attestationObject: base64urlArb,
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);
const PLAUSIBLE = {
  id: base64urlArb,
  qrToken: base64urlArb,
  desktopSecret: base64urlArb,
  ceremonyId: base64urlArb,
  enrolmentToken: base64urlArb,
  username: fc.stringMatching(/^[a-z0-9._@+-]{1,12}$/),
  displayName: fc.string({ minLength: 1, maxLength: 12 }),
  userCode: fc.stringMatching(/^[2-9A-HJKMNP-TV-Z]{4}-?[2-9A-HJKMNP-TV-Z]{4}$/),
  reason: fc.constantFrom("not_me", "cancelled", "number_mismatch"),
  choice: fc.integer({ min: 0, max: 120 }),
  credential: credentialArb,
};
const fieldArb = fc.constantFrom(...Object.keys(PLAUSIBLE));
const jsonArb = fc.jsonValue({ maxDepth: 3, stringUnit: "binary" });
/** Any JSON, or plausible fields with some replaced by anything: what comes close but not quite. */
const bodyArb: fc.Arbitrary<unknown> = fc.oneof(
  jsonArb,
  fc
    .tuple(fc.record(PLAUSIBLE, { requiredKeys: [] }), fc.dictionary(fieldArb, jsonArb, { maxKeys: 3 }))
    .map(([plausible, odd]) => ({ ...plausible, ...odd })),
);

// --- the server and its observers ---------------------------------------------------------------

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}
interface LogLine {
  level: number;
  msg: string;
  raw: string;
}

let server: TestServer;
let clientsDir: string;
let recording: RecordingStore;
let phone: HttpClient;
const logs: LogLine[] = [];
const logWaiters: (() => void)[] = [];

beforeAll(async () => {
  // With an app that uses the device grant, so that its routes on the phone's side are served too.
  clientsDir = mkdtempSync(path.join(tmpdir(), "countersign-fuzz-"));
  const tv = { client_id: "tv", client_name: "TV", token_endpoint_auth_method: "none", grant_types: [DEVICE_GRANT] };
  writeFileSync(path.join(clientsDir, "clients.json"), JSON.stringify([tv]));
  server = await startTestServer({
    env: { OIDC_CLIENTS_FILE: path.join(clientsDir, "clients.json") },
    store: (clock) => (recording = createRecordingStore(createMemoryStore({ clock }))).store,
    logSink: {
      write(raw: string) {
        const { level, msg } = JSON.parse(raw) as { level: number; msg: string };
        logs.push({ level, msg, raw });
        for (const waiter of [...logWaiters]) waiter();
      },
    },
  });
  phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
  const authenticator = new SoftAuthenticator({ origin: server.origin });
  await enrolPhone(phone, authenticator, { username: "prober", displayName: "Prober" });
  recording.reset();
  logs.length = 0;
});

afterAll(async () => {
  await server?.close();
  rmSync(clientsDir, { recursive: true, force: true });
});

afterEach(async () => {
  try {
    expectNoTrace();
    // And the server still serves, both its health check and a real request.
    expect((await send({ method: "GET", path: "/healthz" })).status).toBe(200);
    expect((await phone.get(API_PATHS.approverSession)).status).toBe(200);
  } finally {
    // One test's failure is its own: the next starts clean.
    logs.length = 0;
    recording.reset();
  }
});

/** How far the logs and the store's writes had got, so that a check sees only what came after. */
interface Mark {
  logs: number;
  mutations: number;
}
const markNow = (): Mark => ({ logs: logs.length, mutations: recording.mutations.length });

/**
 * What malformed input must leave behind, since `mark`: no call to write the store, no warning
 * or error logged, no body in the logs. Each fuzz run checks its own share, so that a failing
 * run's leftovers cannot fail the runs fast-check then tries while shrinking.
 */
function expectNoTrace(mark: Mark = { logs: 0, mutations: 0 }): void {
  expect(recording.mutations.slice(mark.mutations)).toEqual([]);
  const noisy = logs.slice(mark.logs).filter((line) => line.level > 30 || line.raw.includes(CANARY));
  expect(noisy.map((line) => line.raw)).toEqual([]);
}

/** One request, byte for byte as given: the path unencoded, any body with its exact length. */
function send(options: {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
}): Promise<RawResponse> {
  const { origin } = server;
  return new Promise((resolve, reject) => {
    const length = options.body === undefined ? {} : { "content-length": String(options.body.length) };
    const request = httpRequest(origin, {
      method: options.method,
      path: options.path,
      agent: false,
      headers: { ...length, ...options.headers },
    });
    request.on("error", reject);
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers["content-type"] ?? "",
          text: Buffer.concat(chunks).toString("utf8"),
        }),
      );
    });
    request.end(options.body);
  });
}

function headersOf(caller: Caller): Record<string, string> {
  const headers: Record<string, string> = {};
  if (caller.origin !== "none") headers.origin = caller.origin === "self" ? server.origin : "https://evil.example";
  if (caller.cookie === "phone") headers.cookie = phone.cookieHeader;
  if (caller.cookie === "junk") headers.cookie = "cs-approver=%zz; cs-desktop=AAAA; cs-approver=\u00e9; =;";
  return headers;
}

/** Refused before anything else: a state-changing method from another origin. */
function expectedFor(method: Method, caller: Caller, otherwise: ErrorCode): ErrorCode {
  return method !== "GET" && caller.origin !== "self" ? "ORIGIN_MISMATCH" : otherwise;
}

/** A 4xx with our JSON error body, its code one we know and its status the code's own. */
function expectClientError(response: RawResponse, expected: ErrorCode): void {
  const seen = `${response.status} ${response.contentType} ${response.text.slice(0, 300)}`;
  expect(response.status, seen).toBeGreaterThanOrEqual(400);
  expect(response.status, seen).toBeLessThan(500);
  expect(response.contentType, seen).toMatch(/^application\/json/);
  const { error } = JSON.parse(response.text) as ErrorResponse;
  expect(ERROR_CODES, seen).toContain(error.code);
  expect(ERROR_STATUS[error.code], seen).toBe(response.status);
  expect(typeof error.message, seen).toBe("string");
  expect(error.code, seen).toBe(expected);
}

/** Resolves once a log line matches; a line is written when the server is done with a request. */
function logged(predicate: (line: LogLine) => boolean): Promise<LogLine> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no matching log line")), 5_000);
    const check = (): void => {
      const line = logs.find(predicate);
      if (line === undefined) return;
      clearTimeout(timer);
      logWaiters.splice(logWaiters.indexOf(check), 1);
      resolve(line);
    };
    logWaiters.push(check);
    check();
  });
}

/**
 * Runs a property from the fixed seed. A failure names the seed and the number of runs first,
 * then fast-check's report: which run failed, its replay path and the shrunk counterexample.
 */
async function fuzz<Ts>(property: fc.IAsyncProperty<Ts>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { seed: SEED, numRuns });
  } catch (error) {
    if (error instanceof Error)
      error.message = `Fuzzing with seed ${SEED} and ${numRuns} runs failed. ${error.message}`;
    throw error;
  }
}

// --- the two cases an attacker's probe found, and what lies around them -------------------------

describe("transport faults the probe found answer 4xx JSON, not 500", () => {
  it("answers a body that is not the gzip, deflate or br it claims with 400 MALFORMED_REQUEST", async () => {
    const truncated = gzipSync(encode('{"username":"fuzz","displayName":"Fuzz"}')).subarray(0, 20);
    for (const [coding, body] of [
      ["gzip", encode("not gzip at all")],
      ["gzip", truncated],
      ["deflate", encode("not deflate")],
      ["br", encode("not brotli")],
    ] as const) {
      const response = await send({
        method: "POST",
        path: API_PATHS.enrolmentOptions,
        headers: { origin: server.origin, ...JSON_TYPE, "content-encoding": coding },
        body,
      });
      expectClientError(response, "MALFORMED_REQUEST");
    }
  });

  it("answers a broken %-escape in a path parameter with 400 MALFORMED_REQUEST", async () => {
    // Signed in: the escape, not a missing session, is what must stop these.
    expectClientError(
      await send({
        method: "DELETE",
        path: "/api/approver/passkeys/%zz",
        headers: headersOf({ origin: "self", cookie: "phone" }),
      }),
      "MALFORMED_REQUEST",
    );
    const cancel = await phone.request("POST", "/api/logins/%E0%A4%A/cancel", {
      json: { desktopSecret: "A".repeat(43) },
    });
    expect([cancel.status, (cancel.body as ErrorResponse).error.code]).toEqual([400, "MALFORMED_REQUEST"]);
  });

  it("logs an upload the client abandons at debug, without its body, and keeps nothing", async () => {
    const started = new Promise<void>((resolve) => server.app.httpServer.once("request", () => resolve()));
    const request = httpRequest(server.origin, {
      method: "POST",
      path: API_PATHS.enrolmentOptions,
      agent: false,
      headers: { origin: server.origin, ...JSON_TYPE, "content-length": "1000" },
    });
    request.on("error", () => undefined); // the reset this test causes
    request.write(`{"username":"${CANARY}",`);
    // By the time Express has the request, body-parser is reading it; only then hang up.
    await started;
    request.destroy();
    const line = await logged((entry) => entry.msg === "malformed request" || entry.msg === "unhandled error");
    expect(line.level).toBeLessThanOrEqual(30);
    expect(line.raw).toContain("request.aborted");
  });

  it("survives requests Node's HTTP parser refuses before Express sees them", async () => {
    // Raw 8-bit bytes in the path, a control character in a header, a broken chunk: Node's
    // parser refuses them before Express runs, and the server still answers with its JSON error.
    const requests = [
      "GET /api/logins/\u00e9\u00ff/cancel HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /api/session HTTP/1.1\r\nHost: x\r\nX-Odd: \u0001\r\n\r\n",
      "POST /api/logins HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n",
    ];
    for (const raw of requests) {
      const { port } = new URL(server.origin);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), "127.0.0.1", () => socket.end(Buffer.from(raw, "latin1")));
        let text = "";
        socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
        socket.on("error", reject);
        socket.on("close", () => resolve(text));
      });
      expect(answer, raw).toMatch(/^HTTP\/1\.1 400 /);
      const body = answer.slice(answer.indexOf("\r\n\r\n") + 4);
      expect(JSON.parse(body), raw).toMatchObject({ error: { code: "MALFORMED_REQUEST" } });
    }
  });
});

// --- fuzzing ------------------------------------------------------------------------------------

describe("fuzzed malformed input never gets a 5xx, a crash or a change of state", () => {
  it("answers every route's transport faults with the 4xx for them", async () => {
    const transports = new Map(ENDPOINTS.map((endpoint) => [endpoint, transportArb(endpoint)]));
    const caseArb = fc
      .constantFrom(...ENDPOINTS)
      .chain((endpoint) =>
        fc.record({ endpoint: fc.constant(endpoint), transport: transports.get(endpoint)!, caller: callerArb }),
      );
    await fuzz(
      fc.asyncProperty(caseArb, async ({ endpoint, transport, caller }) => {
        const mark = markNow();
        const response = await send({
          method: endpoint.method,
          path: pathOf(endpoint.route),
          headers: { ...headersOf(caller), ...transport.headers },
          body: transport.body,
        });
        expectClientError(response, expectedFor(endpoint.method, caller, transport.expected));
        expectNoTrace(mark);
      }),
      800,
    );
  });

  it("answers path parameters with broken escapes, unicode, NUL or far too long with a 4xx", async () => {
    const withIds = ENDPOINTS.filter((endpoint) => specOf(endpoint).id !== undefined);
    const caseArb = fc.record({
      endpoint: fc.constantFrom(...withIds),
      param: fc.oneof(brokenParamArb, oddParamArb),
      caller: callerArb,
    });
    await fuzz(
      fc.asyncProperty(caseArb, async ({ endpoint, param, caller }) => {
        const spec = specOf(endpoint);
        const decoded = decodesAsUri(param) ? decodeURIComponent(param) : null;
        const isOpaqueId =
          decoded !== null &&
          (spec.id === "client"
            ? oidcClientIdSchema.safeParse(decoded).success
            : new RegExp(`^[A-Za-z0-9_-]{1,${OPAQUE_ID_MAX_LENGTH}}$`).test(decoded));
        // An opaque id (a passkey's, a session's) is any base64url string, and a client id any of
        // its characters: a signed-in phone sending one would be asking, properly, to remove a
        // passkey (or an app's access) that isn't there.
        fc.pre(decoded === null || spec.id === "login" || !isOpaqueId || caller.cookie !== "phone");
        if (spec.id === "login" && decoded !== null) fc.pre(!loginIdSchema.safeParse(decoded).success);
        const mark = markNow();
        const sample = endpoint.method === "POST" ? encode(JSON.stringify(spec.sample ?? {})) : undefined;
        const response = await send({
          method: endpoint.method,
          path: pathOf(endpoint.route, param),
          headers: { ...headersOf(caller), ...(sample === undefined ? {} : JSON_TYPE) },
          ...(sample === undefined ? {} : { body: sample }),
        });
        const stoppedBy: ErrorCode =
          spec.served === false
            ? "NOT_FOUND"
            : decoded === null
              ? "MALFORMED_REQUEST"
              : spec.id === "login" || !isOpaqueId
                ? "VALIDATION_FAILED"
                : "UNAUTHENTICATED";
        expectClientError(response, expectedFor(endpoint.method, caller, stoppedBy));
        expectNoTrace(mark);
      }),
      400,
    );
  });

  it("refuses every body its route's schema refuses, with 400", async () => {
    // A route's body schema is its POST's or PUT's: its GET and DELETE read no body.
    const withBodies = ENDPOINTS.filter(
      (endpoint) => specOf(endpoint).body !== null && (endpoint.method === "POST" || endpoint.method === "PUT"),
    );
    const caseArb = fc.record({
      endpoint: fc.constantFrom(...withBodies),
      body: bodyArb,
      id: base64urlArb,
      caller: callerArb,
    });
    await fuzz(
      fc.asyncProperty(caseArb, async ({ endpoint, body, id, caller }) => {
        const text = JSON.stringify(body);
        // What the server will see, after the JSON round trip; a body it would accept is no fuzz.
        const received: unknown = JSON.parse(text);
        fc.pre(!specOf(endpoint).body!.safeParse(received).success);
        const mark = markNow();
        const response = await send({
          method: endpoint.method,
          path: pathOf(endpoint.route, id),
          headers: { ...headersOf(caller), ...JSON_TYPE },
          body: encode(text),
        });
        const container = typeof received === "object" && received !== null;
        expectClientError(
          response,
          expectedFor(endpoint.method, caller, container ? "VALIDATION_FAILED" : "INVALID_JSON"),
        );
        expectNoTrace(mark);
      }),
      600,
    );
  });
});

// --- sockets ------------------------------------------------------------------------------------

const CLIENT_EVENTS = {
  [SOCKET_EVENTS.loginWatch]: loginWatchPayloadSchema,
  [SOCKET_EVENTS.loginUnwatch]: loginUnwatchPayloadSchema,
};
type ClientEvent = keyof typeof CLIENT_EVENTS;
const isClientEvent = (event: string): event is ClientEvent => Object.hasOwn(CLIENT_EVENTS, event);
/** Names Socket.IO keeps for itself: its client refuses to send them (raw packets try below). */
const RESERVED_EVENTS = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];
const eventArb = fc.oneof(
  { arbitrary: fc.constantFrom(...(Object.keys(CLIENT_EVENTS) as ClientEvent[])), weight: 4 },
  fc.constantFrom(
    SOCKET_EVENTS.loginUpdate,
    SOCKET_EVENTS.pushRequest,
    SOCKET_EVENTS.sessionEnded,
    "login:watch ",
    "LOGIN:WATCH",
  ),
  fc.string({ minLength: 1, maxLength: 20 }).filter((name) => !RESERVED_EVENTS.includes(name) && !isClientEvent(name)),
);
const payloadArb = fc.oneof(
  jsonArb,
  fc.record({ id: base64urlArb, desktopSecret: base64urlArb }, { requiredKeys: [] }),
  fc
    .tuple(fc.record({ id: base64urlArb }), fc.dictionary(fc.constantFrom("id", "desktopSecret"), jsonArb))
    .map(([a, b]) => ({ ...a, ...b })),
  fc.uint8Array({ maxLength: 16 }),
);
/** The socket without its event map, to send what no typed client would. */
const loose = (socket: DesktopSocket) =>
  socket.socket as unknown as {
    emit(event: string, ...args: unknown[]): void;
    timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  };
/** A request any socket may make, whose answer shows that the socket, and the server, still serve. */
async function expectStillServing(socket: DesktopSocket): Promise<void> {
  const ack = await loose(socket)
    .timeout(ACK_TIMEOUT_MS)
    .emitWithAck(SOCKET_EVENTS.loginUnwatch, { id: VALID_LOGIN_ID });
  expect(ack).toEqual({ ok: true });
}
function expectErrorAck(ack: unknown): void {
  const seen = JSON.stringify(ack);
  const { ok, error } = ack as { ok: boolean; error: { code: ErrorCode; message: string } };
  expect(ok, seen).toBe(false);
  expect(ERROR_CODES, seen).toContain(error.code);
  expect(ERROR_STATUS[error.code], seen).toBeGreaterThanOrEqual(400);
  expect(ERROR_STATUS[error.code], seen).toBeLessThan(500);
  expect(typeof error.message, seen).toBe("string");
}

describe("fuzzed socket events never get a 5xx, a silent ack, a crash or a change of state", () => {
  it("acknowledges every malformed client event with a 4xx error, and ignores unknown ones", async () => {
    const sockets = {
      anonymous: new DesktopSocket(server.origin),
      signedIn: new DesktopSocket(server.origin, { cookie: phone.cookieHeader }),
    };
    try {
      await Promise.all(Object.values(sockets).map((socket) => socket.connected()));
      const caseArb = fc.record({
        event: eventArb,
        args: fc.array(payloadArb, { maxLength: 3 }),
        withAck: fc.boolean(),
        who: fc.constantFrom("anonymous", "signedIn") as fc.Arbitrary<keyof typeof sockets>,
      });
      await fuzz(
        fc.asyncProperty(caseArb, async ({ event, args, withAck, who }) => {
          const socket = sockets[who];
          if (isClientEvent(event)) fc.pre(args.length === 0 || !CLIENT_EVENTS[event].safeParse(args[0]).success);
          const mark = markNow();
          if (withAck && isClientEvent(event)) {
            expectErrorAck(
              await loose(socket)
                .timeout(ACK_TIMEOUT_MS)
                .emitWithAck(event, ...args),
            );
          } else {
            // Socket.IO answers no unknown event, even one that asks for an answer.
            loose(socket).emit(event, ...args, ...(withAck ? [() => undefined] : []));
          }
          // Packets are handled in order, so this answer comes after the fuzzed one was handled.
          await expectStillServing(socket);
          expectNoTrace(mark);
        }),
        300,
      );
    } finally {
      for (const socket of Object.values(sockets)) socket.close();
    }
  });

  it("acknowledges a known event sent with no payload, or with extra arguments, with a 4xx error", async () => {
    const socket = new DesktopSocket(server.origin);
    try {
      await socket.connected();
      // With no payload, Socket.IO hands the handler the callback as its first argument.
      expectErrorAck(await loose(socket).timeout(ACK_TIMEOUT_MS).emitWithAck(SOCKET_EVENTS.loginWatch));
      expectErrorAck(await loose(socket).timeout(ACK_TIMEOUT_MS).emitWithAck(SOCKET_EVENTS.loginUnwatch));
      // With extra arguments, the callback comes last, not second.
      expectErrorAck(
        await loose(socket).timeout(ACK_TIMEOUT_MS).emitWithAck(SOCKET_EVENTS.loginWatch, { id: 5 }, "extra"),
      );
      await expectStillServing(socket);
    } finally {
      socket.close();
    }
  });

  it("survives raw packets no Socket.IO client would send: the server closes that one socket", async () => {
    for (const packet of [
      '42["disconnect"]',
      '42["connect",{}]',
      "42{}",
      '42["login:watch",',
      "4x",
      '451-["login:watch",{"_placeholder":true,"num":9}]',
      '42[5,{"id":"AAAA"}]',
    ]) {
      const socket = new DesktopSocket(server.origin);
      try {
        await socket.connected();
        const closed = new Promise<string>((resolve) => socket.socket.once("disconnect", (reason) => resolve(reason)));
        socket.socket.io.engine.send(packet);
        // Either the server drops the socket, or it ignored the packet and still answers.
        const outcome = await Promise.race([closed, expectStillServing(socket).then(() => "served")]);
        expect(["served", "transport close", "io server disconnect"], packet).toContain(outcome);
      } finally {
        socket.close();
      }
    }
    const fresh = new DesktopSocket(server.origin);
    try {
      await fresh.connected();
      await expectStillServing(fresh);
    } finally {
      fresh.close();
    }
  });
});

describe("the observers", () => {
  it("see a well-formed request write to the store, so their silence above means something", async () => {
    expect((await phone.post(API_PATHS.logins, {})).status).toBe(201);
    expect(recording.mutations).toContain("createLoginRequest");
    recording.reset();
  });
});
