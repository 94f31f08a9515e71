import { io, type Socket } from "socket.io-client";
import {
  SOCKET_EVENTS,
  type ClientToServerEvents,
  type LoginView,
  type QrFrame,
  type ServerToClientEvents,
} from "@countersign/shared";
import { signDesktopProof } from "./desktop-key.js";

export interface LoginSocketListener {
  onLogin(login: LoginView): void;
  /** A newer frame of the watched request's QR (from the watch's acknowledgement or pushed). */
  onQrFrame(frame: QrFrame): void;
  onConnectionChange(connected: boolean): void;
  onSessionEnded(): void;
  /** The request can no longer be watched (it is gone, or the secret or key no longer matches). */
  onWatchRefused(): void;
}

/** The request to watch: its secret, and the private key that signs each watch's proof. */
export interface WatchedLogin {
  id: string;
  desktopSecret: string;
  privateKey: CryptoKey;
}

/**
 * The desktop's live link, apart from React. It watches one request at a time, proving each time
 * that it holds the request's key, re-watches after every reconnect (the acknowledgement carries
 * the current state and QR frame) and never goes back to an older version of the request, or an
 * older QR frame, than one it has seen.
 */
export class LoginSocket {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private watched: WatchedLogin | null = null;
  private latestVersion = 0;
  private latestStep = -Infinity;

  constructor(private readonly listener: LoginSocketListener) {
    this.socket = io({ transports: ["websocket"] });
    this.socket.on("connect", () => {
      listener.onConnectionChange(true);
      this.sendWatch();
    });
    this.socket.on("disconnect", () => listener.onConnectionChange(false));
    this.socket.on(SOCKET_EVENTS.loginUpdate, (login) => this.accept(login));
    this.socket.on(SOCKET_EVENTS.loginQr, (frame) => this.acceptFrame(frame));
    this.socket.on(SOCKET_EVENTS.sessionEnded, () => listener.onSessionEnded());
  }

  watch(login: WatchedLogin): void {
    if (this.watched !== null) this.socket.emit(SOCKET_EVENTS.loginUnwatch, { id: this.watched.id }, () => undefined);
    this.watched = login;
    this.latestVersion = 0;
    this.latestStep = -Infinity;
    if (this.socket.connected) this.sendWatch();
  }

  /** Reconnects so the server sees this page's new cookie (it joins the session's room). */
  reconnect(): void {
    this.socket.disconnect().connect();
  }

  close(): void {
    this.socket.close();
  }

  private sendWatch(): void {
    const watched = this.watched;
    if (watched === null) return;
    // A fresh proof for every watch, each re-watch after a reconnect included: the server takes a
    // proof only for a short while after it is made.
    signDesktopProof({ privateKey: watched.privateKey, id: watched.id, use: "watch", now: Date.now() }).then(
      (proof) => {
        // Replaced, or cut off, while signing: the next watch or the reconnect sends its own.
        if (this.watched !== watched || !this.socket.connected) return;
        const payload = { id: watched.id, desktopSecret: watched.desktopSecret, proof };
        this.socket.emit(SOCKET_EVENTS.loginWatch, payload, (ack) => {
          if (this.watched !== watched) return;
          if (ack.ok) {
            this.accept(ack.login);
            if (ack.qr !== null) this.acceptFrame(ack.qr);
          } else if (ack.error.code === "LOGIN_NOT_FOUND") this.listener.onWatchRefused();
        });
      },
      // Without a proof the request cannot be watched: the same as a refusal.
      () => {
        if (this.watched === watched) this.listener.onWatchRefused();
      },
    );
  }

  private accept(login: LoginView): void {
    if (login.id !== this.watched?.id || login.version <= this.latestVersion) return;
    this.latestVersion = login.version;
    this.listener.onLogin(login);
  }

  private acceptFrame(frame: QrFrame): void {
    if (frame.id !== this.watched?.id || frame.step <= this.latestStep) return;
    this.latestStep = frame.step;
    this.listener.onQrFrame(frame);
  }
}
