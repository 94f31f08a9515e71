import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import express, { type RequestHandler } from "express";
import proxyAddr from "proxy-addr";
import type { Logger } from "pino";
import { accountRoutes } from "./account/account.routes.js";
import { AppError } from "./app-error.js";
import type { Clock } from "./clock.js";
import type { Config } from "./config.js";
import type { Deployment } from "./deployment.js";
import { enrolmentRoutes } from "./enrolment/enrolment.routes.js";
import { jsonBodies, requireSameOrigin } from "./http/api-guards.js";
import { locateClients } from "./http/client-context.middleware.js";
import { LOCATE_NOWHERE, type GeoLocator } from "./context/geo.js";
import { answerUnparsableRequests, createErrorHandler } from "./http/error-handler.js";
import { prepareDrain } from "./http/drain.js";
import { healthRoutes } from "./http/health.routes.js";
import { rateLimitPolicies } from "./rate-limit/rate-limits.js";
import { createMemoryRateLimits } from "./rate-limit/rate-limits.memory.js";
import { logRequests, requestContextOf } from "./http/request-log.js";
import { createMetricsServer, metricsRoutes } from "./observability/metrics.routes.js";
import { createObservability } from "./observability/observability.js";
import { auditOriginRefusals, auditSocketRefusals } from "./observability/refusals.js";
import { securityHeaders } from "./http/security-headers.js";
import { serveApps } from "./http/static-apps.js";
import { loginRequestRoutes } from "./login-request/login-request.routes.js";
import type { Random } from "./random.js";
import { broadcastToSockets } from "./realtime/realtime.subscriptions.js";
import { createSocketServer, registerSocketHandlers, type CountersignIo } from "./realtime/socket.server.js";
import { pushLoginRoutes } from "./push-login/push-login.routes.js";
import { passkeySignInRoutes } from "./passkey-sign-in/passkey-sign-in.routes.js";
import { sessionRoutes } from "./session/session.routes.js";
import { createDeviceApprovals, settleAsyncGrants } from "./oidc/oidc.async-grants.js";
import { oidcDeviceApprovalRoutes, oidcDeviceVerificationRoutes } from "./oidc/oidc.device.routes.js";
import { oidcInteractionRoutes } from "./oidc/oidc.interactions.routes.js";
import { createOidcAppsService } from "./oidc/oidc.apps.js";
import { oidcAppsRoutes } from "./oidc/oidc.apps.routes.js";
import { answerSlowPolls } from "./oidc/oidc.polling.js";
import { serveOidcProvider } from "./oidc/oidc.mount.js";
import { answerUnauthorizedClient } from "./oidc/oidc.token-errors.js";
import { createOidcProvider, OIDC_MOUNT_PATH } from "./oidc/oidc.provider.js";
import type { OidcSetup } from "./oidc/oidc.setup.js";
import { createServices } from "./services.js";
import { webPushRoutes } from "./web-push/web-push.routes.js";
import { setUpWebPush } from "./web-push/web-push.setup.js";

/** API answers carry secrets and per-person state: no cache may keep them. */
const noStore: RequestHandler = (_req, res, next) => {
  res.set("Cache-Control", "no-store");
  next();
};

export interface AppDeps {
  config: Config;
  /** The store, shared limits, Socket.IO adapter and shared key: memory or Redis. */
  deployment: Deployment;
  clock: Clock;
  random: Random;
  logger: Logger;
  /** Built front ends to serve; omitted, only the API runs. */
  apps?: { webDist: string; approverDist: string };
  /** Certificate and key contents, for https. */
  tls?: { cert: Buffer; key: Buffer };
  /** How long close() lets in-flight requests finish before cutting them off. Default 10 s. */
  shutdownGraceMs?: number;
  /** The OpenID Provider's keys, clients and storage (oidc/oidc.setup.ts); omitted, no provider. */
  oidc?: OidcSetup;
  /**
   * Where addresses are (context/geo.ts, loaded once by main.ts). Omitted, nobody is located:
   * no places, and every proximity verdict is unknown.
   */
  geo?: GeoLocator;
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
  const { config, deployment, clock, random, logger } = deps;
  const observability = createObservability({
    logger,
    metricsEnabled: config.metrics.token !== null || config.metrics.port !== null,
    openSockets: () => io.engine.clientsCount,
  });
  const { audit, metrics } = observability;
  const store = observability.measure(deployment.store);
  const secureCookies = config.secureCookies;
  const rateLimits = observability.auditLimits(
    deployment.rateLimits ?? createMemoryRateLimits({ clock, policies: rateLimitPolicies(config) }),
  );

  const app = express();
  app.set("trust proxy", config.trustProxy);
  app.disable("x-powered-by");
  // Express hashes every res.send body for an ETag; ours are no-store API answers that no cache
  // revalidates. The front ends' files are served by express.static, which makes its own.
  app.set("etag", false);
  const httpServer =
    deps.tls === undefined
      ? createHttpServer(app)
      : (createHttpsServer({ cert: deps.tls.cert, key: deps.tls.key }, app) as unknown as HttpServer);

  answerUnparsableRequests(httpServer);
  const drainable = prepareDrain({
    httpServer,
    // Asked only at shutdown, once everything below is built.
    isProxy: (address) => address !== undefined && trustProxy(address, 0),
  });
  const io = createSocketServer({ httpServer, origin: config.publicOrigin });
  if (deployment.socketAdapter !== undefined) io.adapter(deployment.socketAdapter);
  let shuttingDown = false;
  const geo = deps.geo ?? LOCATE_NOWHERE;
  const services = createServices({
    config,
    store,
    clock,
    random,
    rateLimits,
    sharedKey: deployment.sharedKey,
    geo,
    audit,
    listenFirst: (events) => observability.listenFirst(events),
  });
  const { sessions, logins, approvals, enrolment, passkeySignIn, account, push } = services;
  // Notifications for phones whose app is closed; it needs the deployment's shared values and a logger.
  const webPush = setUpWebPush({
    config: config.webPush,
    publicOrigin: config.publicOrigin,
    store,
    clock,
    claimShared: (name, create) => deployment.claimShared(name, create),
    loginEvents: services.events.logins,
    log: logger,
    onSent: (outcome) => observability.countWebPush(outcome),
  });
  broadcastToSockets({
    io,
    loginEvents: services.events.logins,
    sessionEvents: services.events.sessions,
    pushEvents: services.events.pushes,
  });
  // After the broadcasts: approval → desktop is timed up to the moment they left.
  observability.listenAfterBroadcasts(services.events);
  const isStoreUnavailable = (error: unknown): boolean => deployment.isUnavailable(error);
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
    publicOrigin: config.publicOrigin,
  });
  auditSocketRefusals({
    engine: io.engine,
    audit,
    contextOf: (request) => requestContextOf(request, { random, ip: () => proxyAddr(request, trustProxy) }),
  });

  /** The OpenID Provider (DESIGN §10) and the glue that settles its device and CIBA requests. */
  function startOidc(setup: OidcSetup) {
    const provider = createOidcProvider({
      ...setup,
      origin: config.publicOrigin,
      store,
      sessions,
      push,
      clock,
      sharedKey: deployment.sharedKey,
      loginTtlSeconds: config.loginTtlSeconds,
      loopbackNotifications: config.oidcLoopbackNotifications,
      trustProxy: config.trustProxy !== false,
      geo,
      secureCookies,
      onError: (error) => logger.warn({ err: error }, "could not end the session at an app's logout"),
    });
    // The library answers its own 500s (server_error) without a word to us: log them.
    provider.on("server_error", (_ctx, error) => logger.error({ err: error }, "OpenID Provider error"));
    answerSlowPolls({ provider, rateLimits });
    answerUnauthorizedClient({ provider });
    settleAsyncGrants({
      provider,
      loginEvents: services.events.logins,
      logins,
      onError: (error, link) => logger.error({ err: error, kind: link.kind }, "could not settle an app's sign-in"),
    });
    return { provider, devices: createDeviceApprovals({ provider, logins, clock, sharedKey: deployment.sharedKey }) };
  }

  app.use(securityHeaders({ secureCookies }));
  app.use(locateClients({ geo }));
  app.use(logRequests({ logger, scope: observability.scope, random, metrics }));
  app.use(
    healthRoutes({
      checkStore: () => deployment.checkReady(),
      isShuttingDown: () => shuttingDown,
    }),
  );
  const metricsToken = config.metrics.token;
  if (metrics !== null && metricsToken !== null) app.use(metricsRoutes({ metrics, token: metricsToken }));

  const oidc = deps.oidc === undefined ? undefined : startOidc(deps.oidc);
  if (oidc !== undefined) app.use(oidcDeviceVerificationRoutes({ publicOrigin: config.publicOrigin }));

  const api = express.Router();
  api.use("/api", noStore, requireSameOrigin({ origin: config.publicOrigin }), ...jsonBodies());
  api.use(
    loginRequestRoutes({
      logins,
      approvals,
      sessions,
      rateLimits,
      clock,
      publicOrigin: config.publicOrigin,
      secureCookies,
      pushPauses: push,
    }),
  );
  api.use(enrolmentRoutes({ enrolment, sessions, rateLimits, clock, secureCookies }));
  api.use(sessionRoutes({ sessions, secureCookies }));
  api.use(passkeySignInRoutes({ passkeySignIn, sessions, rateLimits, clock, secureCookies }));
  api.use(accountRoutes({ account, sessions, secureCookies }));
  // The provider keeps its grants in deployment.oidcStorage (oidc.setup.ts); without it, no apps.
  const oidcApps = createOidcAppsService({ storage: deployment.oidcStorage, clients: deps.oidc?.clients ?? [] });
  api.use(oidcAppsRoutes({ apps: oidcApps, sessions, secureCookies }));
  api.use(pushLoginRoutes({ push, approvals, sessions, rateLimits, secureCookies }));
  api.use(webPushRoutes({ webPush: webPush.service, sessions, secureCookies }));
  if (oidc !== undefined) api.use(oidcDeviceApprovalRoutes({ devices: oidc.devices, approvals, rateLimits }));
  app.use(api);
  app.use("/api", (_req, _res, next) => next(new AppError("NOT_FOUND", "No such API route.")));
  if (oidc !== undefined) {
    // The provider parses its own bodies and answers its own errors (as OAuth says).
    app.use(OIDC_MOUNT_PATH, serveOidcProvider(oidc.provider));
    app.use(
      oidcInteractionRoutes({
        provider: oidc.provider,
        sessions,
        logins,
        push,
        rateLimits,
        publicOrigin: config.publicOrigin,
        secureCookies,
      }),
    );
  }

  if (deps.apps !== undefined) {
    const { router, missing } = serveApps(deps.apps);
    for (const dist of missing) logger.warn({ dist }, "front end not built; run `npm run build` to serve it");
    app.use(router);
  }
  app.use((_req, _res, next) => next(new AppError("NOT_FOUND", "Not found.")));
  app.use(auditOriginRefusals({ audit }));
  app.use(createErrorHandler({ logger, isStoreUnavailable }));
  const metricsServer = metrics !== null && config.metrics.port !== null ? createMetricsServer({ metrics }) : null;

  /** Listens on config.host; resolves with the port (0 picks a free one). */
  const listenOn = (server: HttpServer, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, config.host, () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  return {
    httpServer,
    io,
    listen: async () => {
      const port = await listenOn(httpServer, config.port);
      if (metricsServer !== null && config.metrics.port !== null) await listenOn(metricsServer, config.metrics.port);
      return port;
    },
    async close() {
      shuttingDown = true;
      logins.close();
      // A scrape in flight is worth nothing to a process that is going away.
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      const graceMs = deps.shutdownGraceMs ?? 10_000;
      // Stops accepting, but never closes a kept-alive connection under a proxy's request
      // (http/drain.ts); in-flight requests finish within the grace period.
      const drained = drainable.drain({ graceMs });
      // Every page's socket closes now, to reconnect to another process and resynchronise there.
      // A proxy may still open one here on a kept-alive connection: it is closed as it opens.
      io.engine.on("connection", (socket: { close(): void }) => socket.close());
      io.engine.close();
      await drained;
      // Then the adapter's subscriptions; io.close() finds the HTTP server already closed.
      await io.close();
      // Notifications already on their way (a request's "resolved", say) go out, within the grace period.
      await new Promise<void>((resolve) => {
        const giveUp = setTimeout(resolve, graceMs);
        void webPush.notifier.idle().then(() => {
          clearTimeout(giveUp);
          resolve();
        });
      });
    },
  };
}
