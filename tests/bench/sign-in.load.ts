import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import {
  API_PATHS,
  DESKTOP_PROOF_TYP,
  SOCKET_EVENTS,
  type Ack,
  type CreateLoginResponse,
  type DesktopKey,
  type DesktopProofUse,
  type LoginView,
  type OpenApprovalResponse,
  type QrFrame,
} from "@countersign/shared";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { io } from "socket.io-client";
import { enrolPhone } from "../src/support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../src/support/http-client.js";
import type { CountersignSocket } from "../src/support/socket-client.js";
import { SoftAuthenticator } from "../src/support/soft-authenticator.js";
import { cookiePair, expectJson, type LoadHttp } from "./load-http.js";

/** How long one step may wait for the server before the run is declared broken. */
const STEP_TIMEOUT_MS = 15_000;

/** An enrolled phone: its passkey (the software authenticator) and its approver-session cookie. */
export interface BenchPhone {
  authenticator: SoftAuthenticator;
  cookie: string;
}

/** `count` phones, each enrolled as a new person with a passkey, `concurrency` at a time (not measured). */
export async function enrolPhones(options: {
  origin: string;
  count: number;
  concurrency: number;
}): Promise<BenchPhone[]> {
  const phones: BenchPhone[] = [];
  let next = 0;
  const enrolNext = async (): Promise<void> => {
    while (next < options.count) {
      const index = next++;
      const http = new HttpClient(options.origin, { userAgent: PHONE_UA });
      const authenticator = new SoftAuthenticator({ origin: options.origin });
      await enrolPhone(http, authenticator, { username: `bench-${index}-${Date.now()}`, displayName: "Bench" });
      phones.push({ authenticator, cookie: http.cookieHeader });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, enrolNext));
  return phones;
}

/**
 * The desktop page's key pair and its proofs (DESIGN §11), made with node:crypto's synchronous
 * ECDSA rather than WebCrypto and jose: the same ES256 compact JWS the server verifies with jose,
 * at a fraction of the load generator's CPU.
 */
export class PageKey {
  readonly publicKey: DesktopKey;
  private readonly privateKey: KeyObject;

  constructor() {
    const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const { x, y } = pair.publicKey.export({ format: "jwk" });
    this.publicKey = { kty: "EC", crv: "P-256", x: x!, y: y! };
    this.privateKey = pair.privateKey;
  }

  proof(options: { id: string; use: DesktopProofUse }): string {
    const header = base64url({ alg: "ES256", typ: DESKTOP_PROOF_TYP });
    const payload = base64url({ id: options.id, use: options.use, iat: Math.floor(Date.now() / 1000) });
    const signature = sign("sha256", Buffer.from(`${header}.${payload}`), {
      key: this.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    return `${header}.${payload}.${signature.toString("base64url")}`;
  }
}

const base64url = (json: unknown): string => Buffer.from(JSON.stringify(json)).toString("base64url");

/** A desktop page's socket: connects as the page does, with its Origin. */
export function connectDesktopSocket(origin: string): Promise<CountersignSocket> {
  const socket: CountersignSocket = io(origin, {
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    extraHeaders: { origin, "user-agent": DESKTOP_UA },
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(new Error(`desktop socket: could not connect: ${error.message}`));
    });
  });
}

/** A QR request created and watched by its desktop, and opened by a phone: one tap from approval. */
export interface WaitingRequest {
  id: string;
  socket: CountersignSocket;
  phone: BenchPhone;
  opened: OpenApprovalResponse;
  /** Resolves with performance.now() when the desktop's socket hears "approved". */
  approvedAt: Promise<number>;
  /** Redeems and checks the session, then closes the desktop's socket (the rest of the flow). */
  finish(): Promise<void>;
}

/** Socket → create → watch → the phone opens it from the QR: everything before the person approves. */
export async function prepareWaitingRequest(options: {
  origin: string;
  http: LoadHttp;
  phone: BenchPhone;
}): Promise<WaitingRequest> {
  const { origin, http, phone } = options;
  const desktopHeaders = { origin, "user-agent": DESKTOP_UA };
  const socket = await connectDesktopSocket(origin);
  try {
    const key = new PageKey();
    const created = expectJson<CreateLoginResponse>(
      "create",
      await http.send({
        method: "POST",
        path: API_PATHS.logins,
        headers: desktopHeaders,
        json: { desktopKey: key.publicKey },
      }),
      201,
    );
    const { id } = created.login;
    // The phone scans the QR the page shows now: a later frame once the first has been replaced.
    let shownQrToken = created.qr.token;
    socket.on(SOCKET_EVENTS.loginQr, (frame) => {
      if (frame.id === id) shownQrToken = frame.token;
    });
    const approvedAt = waitForStatus({ socket, id, status: "approved" });
    // Nobody may be left waiting on it if a later step fails and the run stops.
    approvedAt.catch(() => undefined);
    const watched: Ack<{ login: LoginView; qr: QrFrame | null }> = await socket
      .timeout(STEP_TIMEOUT_MS)
      .emitWithAck(SOCKET_EVENTS.loginWatch, {
        id,
        desktopSecret: created.desktopSecret,
        proof: key.proof({ id, use: "watch" }),
      });
    if (!watched.ok) throw new Error(`watch: expected ok, got ${JSON.stringify(watched.error)}`);
    if (watched.qr !== null) shownQrToken = watched.qr.token;
    const opened = expectJson<OpenApprovalResponse>(
      "open from the QR",
      await http.send({
        method: "POST",
        path: API_PATHS.approvalsOpen,
        headers: phoneHeaders(origin, phone),
        json: { id, qrToken: shownQrToken },
      }),
      200,
    );
    const finish = async (): Promise<void> => {
      try {
        const redeemed = await http.send({
          method: "POST",
          path: API_PATHS.loginRedeem(id),
          headers: desktopHeaders,
          json: { desktopSecret: created.desktopSecret, proof: key.proof({ id, use: "redeem" }) },
        });
        expectJson("redeem", redeemed, 200);
        const session = cookiePair(redeemed.setCookie, "cs-desktop");
        if (session === null)
          throw new Error(`redeem: expected a cs-desktop cookie, got ${JSON.stringify(redeemed.setCookie)}`);
        expectJson(
          "session check",
          await http.send({ method: "GET", path: API_PATHS.session, headers: { ...desktopHeaders, cookie: session } }),
          200,
        );
      } finally {
        socket.close();
      }
    };
    return { id, socket, phone, opened, approvedAt, finish };
  } catch (error) {
    socket.close();
    throw error;
  }
}

/** The phone signs the challenge with its passkey and approves; resolves when the answer is back. */
export async function approveWaiting(options: {
  origin: string;
  http: LoadHttp;
  request: WaitingRequest;
}): Promise<void> {
  const { origin, http, request } = options;
  const { opened, phone } = request;
  const credential = await phone.authenticator.getAssertion(
    opened.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
  );
  expectJson(
    "approve",
    await http.send({
      method: "POST",
      path: API_PATHS.loginApprove(request.id),
      headers: phoneHeaders(origin, phone),
      json: { qrToken: opened.qrToken, ceremonyId: opened.approval.ceremonyId, credential },
    }),
    200,
  );
}

/** One complete sign-in, closed loop: resolves when the desktop's session check has answered. */
export async function signIn(options: { origin: string; http: LoadHttp; phone: BenchPhone }): Promise<void> {
  const request = await prepareWaitingRequest(options);
  try {
    await approveWaiting({ ...options, request });
    await request.approvedAt;
  } catch (error) {
    request.socket.close();
    throw error;
  }
  await request.finish();
}

const phoneHeaders = (origin: string, phone: BenchPhone): Record<string, string> => ({
  origin,
  "user-agent": PHONE_UA,
  cookie: phone.cookie,
});

/** Resolves with performance.now() when `socket` hears request `id` reach `status`. */
function waitForStatus(options: {
  socket: CountersignSocket;
  id: string;
  status: LoginView["status"];
}): Promise<number> {
  const { socket, id, status } = options;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(SOCKET_EVENTS.loginUpdate, listener);
      reject(new Error(`desktop socket: no "${status}" for its request within ${STEP_TIMEOUT_MS} ms`));
    }, STEP_TIMEOUT_MS);
    const listener = (login: LoginView): void => {
      if (login.id !== id || login.status !== status) return;
      const at = performance.now();
      clearTimeout(timer);
      socket.off(SOCKET_EVENTS.loginUpdate, listener);
      resolve(at);
    };
    socket.on(SOCKET_EVENTS.loginUpdate, listener);
    // Also when the load generator closes it: a settled promise ignores this, a waiting one ends.
    socket.once("disconnect", (reason) => {
      clearTimeout(timer);
      socket.off(SOCKET_EVENTS.loginUpdate, listener);
      reject(new Error(`desktop socket: disconnected (${reason}) before "${status}"`));
    });
  });
}
