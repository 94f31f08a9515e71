import type { Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import {
  loginWatchPayloadSchema,
  loginUnwatchPayloadSchema,
  MAX_BODY_BYTES,
  SOCKET_EVENTS,
  SOCKET_ROOMS,
  type Ack,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from "@countersign/shared";
import type { Logger } from "pino";
import type { z } from "zod";
import { AppError } from "../app-error.js";
import { toLoginView } from "../login-request/login-request.view.js";
import type { LoginRequestService } from "../login-request/login-request.service.js";
import { readSessionToken } from "../session/session.cookies.js";
import type { SessionService } from "../session/session.service.js";
import { hashSecret } from "../tokens.js";
import { parseInput } from "../http/validate.js";
import type { RealtimePublisher } from "./realtime.publisher.js";

interface SocketData {
  desktopSessionHash: string | null;
  approverUserId: string | null;
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
    sessionEnded({ tokenHash, reason }) {
      const room = SOCKET_ROOMS.session(tokenHash);
      io.to(room).emit(SOCKET_EVENTS.sessionEnded, { reason });
      io.in(room).socketsLeave(room);
    },
  };
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
    logger: Logger;
    secureCookies: boolean;
    isStoreUnavailable: (error: unknown) => boolean;
  },
): void {
  io.use(async (socket, next) => {
    try {
      const cookieHeader = socket.handshake.headers.cookie;
      const desktopToken = readSessionToken(cookieHeader, { kind: "desktop", secure: deps.secureCookies });
      const desktop = await deps.sessions.findSession({ token: desktopToken, kind: "desktop" });
      const approverToken = readSessionToken(cookieHeader, { kind: "approver", secure: deps.secureCookies });
      const approver = await deps.sessions.findSession({ token: approverToken, kind: "approver" });
      socket.data.desktopSessionHash = desktop === null ? null : hashSecret(desktopToken ?? "");
      socket.data.approverUserId = approver?.userId ?? null;
      next();
    } catch (error) {
      deps.logger.warn({ err: error }, "socket handshake failed");
      next(new Error("STORE_UNAVAILABLE"));
    }
  });

  io.on("connection", (socket: CountersignSocket) => {
    if (socket.data.desktopSessionHash !== null) void socket.join(SOCKET_ROOMS.session(socket.data.desktopSessionHash));
    if (socket.data.approverUserId !== null) void socket.join(SOCKET_ROOMS.user(socket.data.approverUserId));

    socket.on(
      SOCKET_EVENTS.loginWatch,
      acknowledged(deps, loginWatchPayloadSchema, async ({ id, desktopSecret }) => {
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
): (payload: unknown, ack: unknown) => void {
  return (payload, ack) => {
    // Without a callback there is nobody to answer; a well-behaved client always sends one.
    if (typeof ack !== "function") return;
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
