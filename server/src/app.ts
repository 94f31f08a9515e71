import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import express, { type RequestHandler } from "express";
import helmet from "helmet";
import proxyAddr from "proxy-addr";
import type { Logger } from "pino";
import { accountRoutes } from "./account/account.routes.js";
import { createAccountService } from "./account/account.service.js";
import { AppError } from "./app-error.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import { enrolmentRoutes } from "./enrolment/enrolment.routes.js";
import { createEnrolmentService } from "./enrolment/enrolment.service.js";
import { jsonBodies, requireSameOrigin } from "./http/api-guards.js";
import { answerUnparsableRequests, createErrorHandler } from "./http/error-handler.js";
import { healthRoutes } from "./http/health.routes.js";
import { createMemoryRateLimits, rateLimitPolicies, type RateLimits } from "./http/rate-limits.js";
import { logRequests } from "./http/request-log.js";
import { serveApps } from "./http/static-apps.js";
import { loginRequestRoutes } from "./login-request/login-request.routes.js";
import { createLoginRequestService } from "./login-request/login-request.service.js";
import { createQrTokenSigner } from "./login-request/qr-token.js";
import type { Random } from "./random.js";
import {
  createSocketPublisher,
  createSocketServer,
  registerSocketHandlers,
  type CountersignIo,
} from "./realtime/socket.server.js";
import { pushLoginRoutes } from "./push-login/push-login.routes.js";
import { createPushLoginService } from "./push-login/push-login.service.js";
import { passkeySignInRoutes } from "./passkey-sign-in/passkey-sign-in.routes.js";
import { createPasskeySignInService } from "./passkey-sign-in/passkey-sign-in.service.js";
import { sessionRoutes } from "./session/session.routes.js";
import { createSessionService } from "./session/session.service.js";
import type { Store } from "./store/store.js";
import { createCeremonyService } from "./webauthn/ceremony.service.js";

/** API answers carry secrets and per-person state: no cache may keep them. */
const noStore: RequestHandler = (_req, res, next) => {
  res.set("Cache-Control", "no-store");
  next();
};

export interface AppDeps {
  config: Config;
  store: Store;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** The key QR tokens are derived from; every process behind one origin must share it. */
  qrTokenKey: Uint8Array;
  /** Defaults to in-process limits. */
  rateLimits?: RateLimits;
  /** Built front ends to serve; omitted, only the API runs. */
  apps?: { webDist: string; approverDist: string };
  /** Certificate and key contents, for https. */
  tls?: { cert: Buffer; key: Buffer };
  /** Whether an error means the store is unreachable (a 503, not a 500). */
  isStoreUnavailable?: (error: unknown) => boolean;
  /** Resolves if the store answers; /readyz calls it. */
  checkStore?: () => Promise<void>;
  /** A Socket.IO adapter shared by every process (the Redis adapter); omitted, in-process rooms. */
  socketAdapter?: Parameters<CountersignIo["adapter"]>[0];
  /** How long close() lets in-flight requests finish before cutting them off. Default 10 s. */
  shutdownGraceMs?: number;
}

export interface App {
  httpServer: HttpServer;
  io: CountersignIo;
  /** Listens on config.host:config.port (0 picks a free port); resolves with the port. */
  listen(): Promise<number>;
  /**
   * Stops accepting connections, disconnects sockets, lets in-flight requests finish within the
   * grace period and then cuts them off. Does not close the store (its owner does).
   */
  close(): Promise<void>;
}

/** Builds the whole server from its dependencies; nothing here reads the environment. */
export function createApp(deps: AppDeps): App {
  const { config, store, clock, random, logger } = deps;
  const secureCookies = config.secureCookies;
  const rateLimits = deps.rateLimits ?? createMemoryRateLimits(rateLimitPolicies(config));

  const app = express();
  app.set("trust proxy", config.trustProxy);
  app.disable("x-powered-by");
  const httpServer =
    deps.tls === undefined
      ? createHttpServer(app)
      : (createHttpsServer({ cert: deps.tls.cert, key: deps.tls.key }, app) as unknown as HttpServer);

  answerUnparsableRequests(httpServer);
  const io = createSocketServer({ httpServer, origin: config.publicOrigin });
  if (deps.socketAdapter !== undefined) io.adapter(deps.socketAdapter);
  let shuttingDown = false;
  const publisher = createSocketPublisher(io);
  const rp = { id: config.rpId, name: config.rpName, origin: config.publicOrigin };
  const ceremonies = createCeremonyService({ store, clock, random });
  const sessions = createSessionService({
    store,
    clock,
    random,
    publisher,
    sessionTtlMs: config.sessionTtlSeconds * 1000,
  });
  const logins = createLoginRequestService({
    store,
    clock,
    random,
    rp,
    qrTokens: createQrTokenSigner({ key: deps.qrTokenKey }),
    ceremonies,
    sessions,
    publisher,
    loginTtlMs: config.loginTtlSeconds * 1000,
    pushPauseMs: config.pushPauseMinutes * 60_000,
  });
  const enrolment = createEnrolmentService({ store, clock, random, rp, ceremonies, sessions });
  const passkeySignIn = createPasskeySignInService({ store, clock, rp, ceremonies, sessions });
  const account = createAccountService({ store, clock, sessions });
  const push = createPushLoginService({
    store,
    clock,
    random,
    logins,
    rateLimits,
    publisher,
    // Shared by every process, like the QR tokens it also keys.
    pseudonymKey: deps.qrTokenKey,
  });
  const isStoreUnavailable = deps.isStoreUnavailable ?? (() => false);
  const trustProxy = app.get("trust proxy fn") as (address: string, hop: number) => boolean;
  registerSocketHandlers(io, {
    logins,
    sessions,
    rateLimits,
    clock,
    logger,
    secureCookies,
    isStoreUnavailable,
    clientIpOf: (request) => proxyAddr(request, trustProxy),
  });

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          "default-src": ["'self'"],
          "script-src": ["'self'"],
          "style-src": ["'self'"],
          // The QR arrives as an SVG data: URL.
          "img-src": ["'self'", "data:"],
          "connect-src": ["'self'"],
          "font-src": ["'self'"],
          "manifest-src": ["'self'"],
          "worker-src": ["'self'"],
          "object-src": ["'none'"],
          "base-uri": ["'self'"],
          "form-action": ["'self'"],
          "frame-ancestors": ["'none'"],
          ...(secureCookies ? { "upgrade-insecure-requests": [] } : {}),
        },
      },
      strictTransportSecurity: secureCookies,
    }),
  );
  app.use(logRequests(logger));
  app.use(
    healthRoutes({
      checkStore: deps.checkStore ?? (() => Promise.resolve()),
      isShuttingDown: () => shuttingDown,
    }),
  );

  const api = express.Router();
  api.use("/api", noStore, requireSameOrigin({ origin: config.publicOrigin }), ...jsonBodies());
  api.use(
    loginRequestRoutes({ logins, sessions, rateLimits, clock, publicOrigin: config.publicOrigin, secureCookies }),
  );
  api.use(enrolmentRoutes({ enrolment, sessions, rateLimits, clock, secureCookies }));
  api.use(sessionRoutes({ sessions, secureCookies }));
  api.use(passkeySignInRoutes({ passkeySignIn, sessions, rateLimits, clock, secureCookies }));
  api.use(accountRoutes({ account, sessions, secureCookies }));
  api.use(pushLoginRoutes({ push, logins, sessions, rateLimits, secureCookies }));
  app.use(api);
  app.use("/api", (_req, _res, next) => next(new AppError("NOT_FOUND", "No such API route.")));

  if (deps.apps !== undefined) {
    const { router, missing } = serveApps(deps.apps);
    for (const dist of missing) logger.warn({ dist }, "front end not built; run `npm run build` to serve it");
    app.use(router);
  }
  app.use((_req, _res, next) => next(new AppError("NOT_FOUND", "Not found.")));
  app.use(createErrorHandler({ logger, isStoreUnavailable }));

  return {
    httpServer,
    io,
    listen: () =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off("error", reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      }),
    async close() {
      shuttingDown = true;
      logins.close();
      const graceMs = deps.shutdownGraceMs ?? 10_000;
      // After the grace period, requests still running are cut off: shutdown has a bound.
      const deadline = setTimeout(() => httpServer.closeAllConnections(), graceMs);
      deadline.unref();
      // Node closes only the connections idle when close() is called; one that finishes its
      // request later would otherwise linger until its keep-alive timeout.
      const idleSweeper = setInterval(() => httpServer.closeIdleConnections(), 50);
      await new Promise<void>((resolve) => {
        // io.close() disconnects every socket and closes the HTTP server, which stops accepting
        // and waits for in-flight requests.
        void io.close(() => resolve());
        httpServer.closeIdleConnections();
      });
      clearInterval(idleSweeper);
      clearTimeout(deadline);
    },
  };
}
