import { io, type Socket } from "socket.io-client";
import {
  SOCKET_EVENTS,
  type ClientToServerEvents,
  type LoginView,
  type ServerToClientEvents,
} from "@countersign/shared";

export interface LoginSocketListener {
  onLogin(login: LoginView): void;
  onConnectionChange(connected: boolean): void;
  onSessionEnded(): void;
  /** The request can no longer be watched (it is gone, or the secret no longer matches). */
  onWatchRefused(): void;
}

/**
 * The desktop's live link, apart from React. It watches one request at a time, re-watches after
 * every reconnect (the acknowledgement carries the current state) and never goes back to an
 * older version of the request than one it has seen.
 */
export class LoginSocket {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private watched: { id: string; desktopSecret: string } | null = null;
  private latestVersion = 0;

  constructor(private readonly listener: LoginSocketListener) {
    this.socket = io({ transports: ["websocket"] });
    this.socket.on("connect", () => {
      listener.onConnectionChange(true);
      this.sendWatch();
    });
    this.socket.on("disconnect", () => listener.onConnectionChange(false));
    this.socket.on(SOCKET_EVENTS.loginUpdate, (login) => this.accept(login));
    this.socket.on(SOCKET_EVENTS.sessionEnded, () => listener.onSessionEnded());
  }

  watch(login: { id: string; desktopSecret: string }): void {
    if (this.watched !== null) this.socket.emit(SOCKET_EVENTS.loginUnwatch, { id: this.watched.id }, () => undefined);
    this.watched = login;
    this.latestVersion = 0;
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
    this.socket.emit(SOCKET_EVENTS.loginWatch, watched, (ack) => {
      if (this.watched !== watched) return;
      if (ack.ok) this.accept(ack.login);
      else if (ack.error.code === "LOGIN_NOT_FOUND") this.listener.onWatchRefused();
    });
  }

  private accept(login: LoginView): void {
    if (login.id !== this.watched?.id || login.version <= this.latestVersion) return;
    this.latestVersion = login.version;
    this.listener.onLogin(login);
  }
}
