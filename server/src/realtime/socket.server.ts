import type { IncomingMessage, Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import {
  loginWatchPayloadSchema,
  loginUnwatchPayloadSchema,
  MAX_BODY_BYTES,
  SOCKET_EVENTS,
  SOCKET_ROOMS,
  type Ack,
  type SessionEndedPayload,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from "@countersign/shared";
import type { Logger } from "pino";
import type { z } from "zod";
import { AppError } from "../app-error.js";
import type { Clock, TimerHandle } from "../clock.js";
import type { RateLimits } from "../http/rate-limits.js";
import type { SessionRecord } from "../store/store.js";
import { toLoginView } from "../login-request/login-request.view.js";
import type { LoginRequestService } from "../login-request/login-request.service.js";
import { readSessionToken } from "../session/session.cookies.js";
import type { SessionService } from "../session/session.service.js";
import { parseInput } from "../http/validate.js";
import type { RealtimePublisher } from "./realtime.publisher.js";

interface SocketData {
  /** The sessions the handshake's cookies proved; what they grant lasts only as long as they do. */
  desktopSession: SessionRecord | null;
  approverSession: SessionRecord | null;
}

export type CountersignIo = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type CountersignSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Socket.IO on the app's HTTP server; a handshake from another origin is refused (DESIGN §5). */
export function createSocketServer(options: { httpServer: HttpServer; origin: string }): CountersignIo {
  return new Server(options.httpServer, {
    serveClient: false,
    maxHttpBufferSize: MAX_BODY_BYTES,
    allowRequest: (req, callback) => callback(null, req.headers.origin === options.origin),
  });
}

export function createSocketPublisher(io: CountersignIo): RealtimePublisher {
  return {
    loginChanged(request) {
      io.to(SOCKET_ROOMS.login(request.id)).emit(SOCKET_EVENTS.loginUpdate, toLoginView(request));
      // Decided, expired or replaced anywhere: every phone's inbox drops it.
      const waiting = request.status === "pending" || request.status === "scanned";
      if (request.push !== null && request.push.userId !== "" && !waiting) {
        io.to(SOCKET_ROOMS.user(request.push.userId)).emit(SOCKET_EVENTS.pushResolved, { id: request.id });
      }
    },
    pushRequested({ userId, review }) {
      io.to(SOCKET_ROOMS.user(userId)).emit(SOCKET_EVENTS.pushRequest, review);
    },
    sessionEnded({ session, reason }) {
      const room = SOCKET_ROOMS.session(session.tokenHash);
      io.to(room).emit(SOCKET_EVENTS.sessionEnded, { reason });
      // Through the adapter, so sockets held by other processes leave too.
      io.in(room).socketsLeave(roomsGrantedBy(session));
    },
  };
}

/**
 * The rooms a session puts a socket in: its own (to hear that it ended) and, for a phone, the
 * person's (push requests). A desktop session grants no person room, so its end never takes a
 * socket out of a room its phone session put it in.
 */
function roomsGrantedBy(session: SessionRecord): string[] {
  const own = SOCKET_ROOMS.session(session.tokenHash);
  return session.kind === "approver" ? [own, SOCKET_ROOMS.user(session.userId)] : [own];
}

/**
 * Wires the client events. Each handler validates, acts, then acknowledges with
 * `{ ok: true, ... }` or `{ ok: false, error }`; nobody joins a room they cannot prove.
 */
export function registerSocketHandlers(
  io: CountersignIo,
  deps: {
    logins: LoginRequestService;
    sessions: SessionService;
    rateLimits: RateLimits;
    clock: Clock;
    logger: Logger;
    secureCookies: boolean;
    isStoreUnavailable: (error: unknown) => boolean;
    /** The client's address, honouring TRUST_PROXY the way Express's req.ip does. */
    clientIpOf: (request: IncomingMessage) => string;
  },
): void {
  io.use(async (socket, next) => {
    try {
      const cookieHeader = socket.handshake.headers.cookie;
      const desktopToken = readSessionToken(cookieHeader, { kind: "desktop", secure: deps.secureCookies });
      socket.data.desktopSession = await deps.sessions.findSession({ token: desktopToken, kind: "desktop" });
      const approverToken = readSessionToken(cookieHeader, { kind: "approver", secure: deps.secureCookies });
      socket.data.approverSession = await deps.sessions.findSession({ token: approverToken, kind: "approver" });
      next();
    } catch (error) {
      deps.logger.warn({ err: error }, "socket handshake failed");
      next(new Error("STORE_UNAVAILABLE"));
    }
  });

  io.on("connection", (socket: CountersignSocket) => {
    const expiryTimers: TimerHandle[] = [];
    socket.on("disconnect", () => {
      for (const timer of expiryTimers) timer.cancel();
    });
    for (const session of [socket.data.desktopSession, socket.data.approverSession]) {
      if (session === null) continue;
      const leave = (reason: SessionEndedPayload["reason"]): void => {
        // Already out of its session's room: told once, by whoever ended it first.
        if (!socket.rooms.has(SOCKET_ROOMS.session(session.tokenHash))) return;
        socket.emit(SOCKET_EVENTS.sessionEnded, { reason });
        for (const room of roomsGrantedBy(session)) void socket.leave(room);
      };
      void socket.join(roomsGrantedBy(session));
      expiryTimers.push(deps.clock.schedule(() => leave("expired"), session.expiresAt - deps.clock.now()));
      // Joined first, checked second: a session ended between the handshake and the join sent
      // its "leave" before this socket was in the rooms, so look again now that it is.
      deps.sessions.findSessionByHash({ tokenHash: session.tokenHash, kind: session.kind }).then(
        (current) => {
          if (current === null) leave("revoked");
        },
        // The handshake proved the session a moment ago; an outage now is no reason to doubt it.
        (error: unknown) => deps.logger.warn({ err: error }, "could not re-check a socket's session"),
      );
    }

    const clientIp = deps.clientIpOf(socket.request);
    socket.on(
      SOCKET_EVENTS.loginWatch,
      acknowledged(deps, loginWatchPayloadSchema, async ({ id, desktopSecret }) => {
        await deps.rateLimits.consume({ action: "watchLogin", key: clientIp });
        // Prove first, then join, then read: an update racing the join is either in the
        // acknowledged state or arrives after it, and the client keeps the higher version.
        await deps.logins.getForDesktop({ id, desktopSecret });
        await socket.join(SOCKET_ROOMS.login(id));
        const login = await deps.logins.getForDesktop({ id, desktopSecret });
        return { login: toLoginView(login) };
      }),
    );

    socket.on(
      SOCKET_EVENTS.loginUnwatch,
      acknowledged(deps, loginUnwatchPayloadSchema, async ({ id }) => {
        await socket.leave(SOCKET_ROOMS.login(id));
        return {};
      }),
    );
  });
}

/** Validates the payload and turns the handler's outcome into an acknowledgement. */
function acknowledged<S extends z.ZodType, R extends object>(
  deps: { logger: Logger; isStoreUnavailable: (error: unknown) => boolean },
  schema: S,
  handler: (payload: z.infer<S>) => Promise<R>,
): (...args: unknown[]) => void {
  return (...args) => {
    // Socket.IO passes the callback last, after however many arguments the client sent.
    // Without one there is nobody to answer; a well-behaved client always sends one.
    const ack = args.at(-1);
    if (typeof ack !== "function") return;
    // Exactly one payload, or it is malformed: undefined fails every schema.
    const payload = args.length === 2 ? args[0] : undefined;
    const reply = ack as (response: Ack<R>) => void;
    Promise.resolve()
      .then(() => handler(parseInput(schema, payload)))
      .then(
        (result) => reply({ ok: true, ...result }),
        (error: unknown) => {
          if (error instanceof AppError) {
            reply({ ok: false, error: { code: error.code, message: error.message } });
            return;
          }
          if (deps.isStoreUnavailable(error)) {
            deps.logger.warn({ err: error }, "store unavailable");
            reply({ ok: false, error: { code: "STORE_UNAVAILABLE", message: "The service is briefly unavailable." } });
            return;
          }
          deps.logger.error({ err: error }, "socket handler failed");
          reply({ ok: false, error: { code: "INTERNAL", message: "Something went wrong on our side." } });
        },
      );
  };
}
