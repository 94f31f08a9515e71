import { io, type Socket } from "socket.io-client";
import { desktopProof } from "./desktop-key.js";
import {
  QR_STEP_MS,
  SOCKET_EVENTS,
  type Ack,
  type ClientToServerEvents,
  type LoginStatus,
  type LoginView,
  type PushReview,
  type QrFrame,
  type ServerToClientEvents,
  type SessionEndedPayload,
} from "@countersign/shared";

export type CountersignSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * A browser's socket as a test sees it: connects with a page's Origin (and cookies), records
 * what it is sent in order, and lets a test wait for what it expects.
 */
class RecordingSocket {
  readonly socket: CountersignSocket;
  /** Every login update, in order (a phone socket may watch a request too, as a marker). */
  readonly updates: LoginView[] = [];
  readonly sessionEnded: SessionEndedPayload[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    readonly baseUrl: string,
    options: { origin?: string; cookie?: string },
  ) {
    this.socket = io(baseUrl, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      extraHeaders: {
        origin: options.origin ?? baseUrl,
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
    });
    this.socket.on(SOCKET_EVENTS.loginUpdate, (login) => this.record(() => this.updates.push(login)));
    this.socket.on(SOCKET_EVENTS.sessionEnded, (payload) => this.record(() => this.sessionEnded.push(payload)));
  }

  connected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("connect_error", reject);
    });
  }

  /** Watches as the desktop page does: with a fresh proof of its key, unless the test gives one. */
  async watch(payload: {
    id: string;
    desktopSecret: string;
    proof?: string;
  }): Promise<Ack<{ login: LoginView; qr: QrFrame | null }>> {
    const proof = payload.proof ?? (await desktopProof({ origin: this.baseUrl, id: payload.id, use: "watch" }));
    return this.socket.timeout(5_000).emitWithAck(SOCKET_EVENTS.loginWatch, { ...payload, proof });
  }

  /** Resolves once `predicate` holds over what this socket has received. */
  waitUntil(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}; received ${this.describe()}`));
      }, timeoutMs);
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    this.socket.close();
  }

  /** Adds what arrived, then wakes whoever waits for it. */
  protected record(add: () => void): void {
    add();
    for (const waiter of [...this.waiters]) waiter();
  }

  protected describe(): string {
    return JSON.stringify({ updates: this.updates.map((update) => update.status), sessionEnded: this.sessionEnded });
  }
}

/** A desktop page's socket: records every update and every QR frame it is sent, in order. */
export class DesktopSocket extends RecordingSocket {
  readonly frames: QrFrame[] = [];

  constructor(baseUrl: string, options: { origin?: string; cookie?: string } = {}) {
    super(baseUrl, options);
    this.socket.on(SOCKET_EVENTS.loginQr, (frame) => this.record(() => this.frames.push(frame)));
  }

  /** The frames of one request it was sent, in order. */
  framesOf(id: string): QrFrame[] {
    return this.frames.filter((frame) => frame.id === id);
  }

  /** Resolves with the first frame of request `id` for `step` or later, once it has arrived. */
  async waitForFrame(options: { id: string; step: number }, timeoutMs = 4 * QR_STEP_MS): Promise<QrFrame> {
    const found = (): QrFrame | undefined =>
      this.frames.find((frame) => frame.id === options.id && frame.step >= options.step);
    await this.waitUntil(() => found() !== undefined, `a QR frame of step ${options.step}`, timeoutMs);
    return found()!;
  }

  /** Resolves once an update with `status` has arrived (or already had). */
  async waitForStatus(status: LoginStatus, timeoutMs = 5_000): Promise<LoginView> {
    await this.waitUntil(() => this.updates.some((update) => update.status === status), `status ${status}`, timeoutMs);
    return this.updates.find((update) => update.status === status)!;
  }

  async waitForSessionEnded(timeoutMs = 5_000): Promise<SessionEndedPayload> {
    await this.waitUntil(() => this.sessionEnded.length > 0, "session:ended", timeoutMs);
    return this.sessionEnded[0]!;
  }

  statuses(): LoginStatus[] {
    return this.updates.map((update) => update.status);
  }
}

/** An approver app's socket: signed in by its cookie, it records the push requests it is sent. */
export class ApproverSocket extends RecordingSocket {
  readonly requests: PushReview[] = [];
  readonly resolved: string[] = [];

  constructor(baseUrl: string, options: { cookie: string; origin?: string }) {
    super(baseUrl, options);
    this.socket.on(SOCKET_EVENTS.pushRequest, (review) => this.record(() => this.requests.push(review)));
    this.socket.on(SOCKET_EVENTS.pushResolved, ({ id }) => this.record(() => this.resolved.push(id)));
  }

  protected override describe(): string {
    return `${super.describe()} requests ${JSON.stringify(this.requests.map((review) => review.id))}`;
  }
}
