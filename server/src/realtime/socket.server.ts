import type { IncomingMessage, Server as HttpServer } from "node:http";
import { Server, type Socket } from "socket.io";
import {
  loginWatchPayloadSchema,
  loginUnwatchPayloadSchema,
  MAX_BODY_BYTES,
  SOCKET_EVENTS,
  SOCKET_ROOMS,
  type Ack,
  type ClientToServerEvents,
  type QrFrame,
  type ServerToClientEvents,
} from "@countersign/shared";
import type { Logger } from "pino";
import type { z } from "zod";
import { toErrorReply } from "../errors/error-reply.js";
import type { Clock, TimerHandle } from "../clock.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import type { SessionRecord } from "../store/store.js";
import { toLoginView } from "../login-request/login-request.view.js";
import { toQrFrame } from "../login-request/qr-frame.js";
import type { LoginRequestService } from "../login-request/login-request.service.js";
import { readSessionToken } from "../session/session.cookies.js";
import { hashSecret } from "../tokens.js";
import type { SessionService } from "../session/session.service.js";
import { parseInput } from "../http/validate.js";
import { createQrFrameSender } from "./socket.qr-frames.js";
import { roomsGrantedBy } from "./socket.rooms.js";

interface SocketData {
  /** The sessions the handshake's cookies proved; what they grant lasts only as long as they do. */
  desktopSession: SessionRecord | null;
  approverSession: SessionRecord | null;
}

export type CountersignIo = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type CountersignSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** How soon a socket asks again whether its session ended, when the store could not say. */
const EXPIRY_RECHECK_MS = 30_000;

/** Socket.IO on the app's HTTP server; a handshake from another origin is refused (DESIGN §5). */
export function createSocketServer(options: { httpServer: HttpServer; origin: string }): CountersignIo {
  return new Server(options.httpServer, {
    serveClient: false,
    maxHttpBufferSize: MAX_BODY_BYTES,
    allowRequest: (req, callback) => callback(null, req.headers.origin === options.origin),
  });
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
    /** Where the approver links in QR frames point. */
    publicOrigin: string;
  },
): void {
  io.use(async (socket, next) => {
    try {
      const cookieHeader = socket.handshake.headers.cookie;
      for (const kind of ["desktop", "approver"] as const) {
        const token = readSessionToken(cookieHeader, { kind, secure: deps.secureCookies });
        const session = token === null ? null : await grantSession(socket, { token, kind });
        if (kind === "desktop") socket.data.desktopSession = session;
        else socket.data.approverSession = session;
      }
      next();
    } catch (error) {
      deps.logger.warn({ err: error }, "socket handshake failed");
      // Socket.IO takes a refused socket out of every room it joined.
      next(new Error("STORE_UNAVAILABLE"));
    }
  });

  /**
   * Puts the socket in the rooms a session grants, race-free and before the client hears
   * "connect": it joins the session's own room first (so an end from then on reaches it), then
   * reads the session, then joins the rest, and keeps them only if the end of the session did not
   * take it out of its own room meanwhile.
   */
  async function grantSession(
    socket: CountersignSocket,
    options: { token: string; kind: SessionRecord["kind"] },
  ): Promise<SessionRecord | null> {
    const ownRoom = SOCKET_ROOMS.session(hashSecret(options.token));
    await socket.join(ownRoom);
    const session = await deps.sessions.findSession(options);
    if (session === null) {
      await socket.leave(ownRoom);
      return null;
    }
    await socket.join(roomsGrantedBy(session));
    if (socket.rooms.has(ownRoom)) return session;
    for (const room of roomsGrantedBy(session)) await socket.leave(room);
    return null;
  }

  const frameOf = (id: string): QrFrame =>
    toQrFrame({ id, frame: deps.logins.currentQrFrame(id), publicOrigin: deps.publicOrigin });

  io.on("connection", (socket: CountersignSocket) => {
    const expiryTimers = new Set<TimerHandle>();
    const qrFrames = createQrFrameSender({ socket, clock: deps.clock, frameOf });
    socket.on("disconnect", () => {
      for (const timer of expiryTimers) timer.cancel();
      expiryTimers.clear();
      qrFrames.stopAll();
    });
    for (const session of [socket.data.desktopSession, socket.data.approverSession]) {
      if (session === null) continue;
      const ownRoom = SOCKET_ROOMS.session(session.tokenHash);
      // Out of its session's room: told once, by whoever ended it first; or gone.
      const stillSignedIn = (): boolean => socket.connected && socket.rooms.has(ownRoom);
      const armUntil = (expiresAt: number): void => {
        const timer = deps.clock.schedule(() => {
          expiryTimers.delete(timer);
          void expire();
        }, expiresAt - deps.clock.now());
        expiryTimers.add(timer);
      };
      // The session runs out by itself, with no one to announce it: this socket tells itself,
      // unless it slid forward meanwhile (a phone in use), and then waits for its new end.
      const expire = async (): Promise<void> => {
        if (!stillSignedIn()) return;
        let current: SessionRecord | null;
        try {
          current = await deps.sessions.findSessionByHash({ tokenHash: session.tokenHash, kind: session.kind });
        } catch (error) {
          // A store that cannot answer must not sign a phone out: ask again a little later.
          deps.logger.warn({ err: error }, "could not re-read a socket's session at its expiry");
          if (stillSignedIn()) armUntil(deps.clock.now() + EXPIRY_RECHECK_MS);
          return;
        }
        if (!stillSignedIn()) return;
        if (current !== null) {
          armUntil(current.expiresAt);
          return;
        }
        socket.emit(SOCKET_EVENTS.sessionEnded, { reason: "expired" });
        for (const room of roomsGrantedBy(session)) void socket.leave(room);
      };
      armUntil(session.expiresAt);
    }

    const clientIp = deps.clientIpOf(socket.request);
    socket.on(
      SOCKET_EVENTS.loginWatch,
      acknowledged(deps, loginWatchPayloadSchema, async ({ id, desktopSecret, proof }) => {
        await deps.rateLimits.consume({ action: "watchLogin", key: clientIp });
        // Prove first, then join, then read: an update racing the join is either in the
        // acknowledged state or arrives after it, and the client keeps the higher version. The
        // same holds for the QR room: an end after the read takes the socket out of it. One
        // proof; the read after the join is a plain one, and cannot be skipped: a change made by
        // another process before the join reaches this socket only through that read.
        const login = await deps.logins.getForDesktop({
          id,
          desktopSecret,
          proof,
          beforeRead: async (proven) => {
            const rooms = [SOCKET_ROOMS.login(id)];
            if (proven.push === null) rooms.push(SOCKET_ROOMS.qrFrames(id));
            await socket.join(rooms);
          },
        });
        return { login: toLoginView(login), qr: qrFrames.follow(login) };
      }),
    );

    socket.on(
      SOCKET_EVENTS.loginUnwatch,
      acknowledged(deps, loginUnwatchPayloadSchema, async ({ id }) => {
        qrFrames.stop(id);
        await socket.leave(SOCKET_ROOMS.qrFrames(id));
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
          const { body } = toErrorReply(error, {
            isStoreUnavailable: deps.isStoreUnavailable,
            logger: deps.logger,
            context: { transport: "socket" },
          });
          reply({ ok: false, error: body });
        },
      );
  };
}
