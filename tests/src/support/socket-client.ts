import { io, type Socket } from "socket.io-client";
import {
  SOCKET_EVENTS,
  type Ack,
  type ClientToServerEvents,
  type LoginStatus,
  type LoginView,
  type PushReview,
  type ServerToClientEvents,
  type SessionEndedPayload,
} from "@countersign/shared";

export type CountersignSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * A desktop page's socket: connects with the page's Origin and cookies and records every
 * update it is sent, in order.
 */
export class DesktopSocket {
  readonly socket: CountersignSocket;
  readonly updates: LoginView[] = [];
  readonly sessionEnded: SessionEndedPayload[] = [];
  private waiters: (() => void)[] = [];

  constructor(baseUrl: string, options: { origin?: string; cookie?: string } = {}) {
    this.socket = io(baseUrl, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      extraHeaders: {
        origin: options.origin ?? baseUrl,
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
    });
    this.socket.on(SOCKET_EVENTS.loginUpdate, (login) => {
      this.updates.push(login);
      this.notify();
    });
    this.socket.on(SOCKET_EVENTS.sessionEnded, (payload) => {
      this.sessionEnded.push(payload);
      this.notify();
    });
  }

  connected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("connect_error", reject);
    });
  }

  watch(payload: { id: string; desktopSecret: string }): Promise<Ack<{ login: LoginView }>> {
    return this.socket.timeout(5_000).emitWithAck(SOCKET_EVENTS.loginWatch, payload);
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

  close(): void {
    this.socket.close();
  }

  private waitUntil(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; saw ${JSON.stringify(this.statuses())}`)),
        timeoutMs,
      );
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        resolve();
      };
      this.waiters.push(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** An approver app's socket: signed in by its cookie, it records the push requests it is sent. */
export class ApproverSocket {
  readonly socket: CountersignSocket;
  readonly requests: PushReview[] = [];
  readonly resolved: string[] = [];
  readonly sessionEnded: SessionEndedPayload[] = [];
  /** Desktop updates, when a test also watches a request on this socket (as a marker). */
  readonly updates: LoginView[] = [];
  private waiters: (() => void)[] = [];

  constructor(baseUrl: string, options: { cookie: string; origin?: string }) {
    this.socket = io(baseUrl, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      extraHeaders: { origin: options.origin ?? baseUrl, cookie: options.cookie },
    });
    this.socket.on(SOCKET_EVENTS.pushRequest, (review) => this.record(() => this.requests.push(review)));
    this.socket.on(SOCKET_EVENTS.pushResolved, ({ id }) => this.record(() => this.resolved.push(id)));
    this.socket.on(SOCKET_EVENTS.sessionEnded, (payload) => this.record(() => this.sessionEnded.push(payload)));
    this.socket.on(SOCKET_EVENTS.loginUpdate, (login) => this.record(() => this.updates.push(login)));
  }

  connected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("connect_error", reject);
    });
  }

  watch(payload: { id: string; desktopSecret: string }): Promise<Ack<{ login: LoginView }>> {
    return this.socket.timeout(5_000).emitWithAck(SOCKET_EVENTS.loginWatch, payload);
  }

  /** Resolves once `predicate` holds over what this socket has received. */
  waitUntil(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(`timed out waiting for ${what}; requests ${JSON.stringify(this.requests.map((r) => r.id))}`));
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

  private record(add: () => void): void {
    add();
    for (const waiter of [...this.waiters]) waiter();
  }
}
