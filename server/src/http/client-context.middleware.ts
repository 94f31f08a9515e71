import type { Request, RequestHandler } from "express";
import { describeClient } from "../context/client-context.js";
import type { GeoLocator } from "../context/geo.js";
import type { ClientContext } from "../store/store.js";

/** Where locateClients leaves the app's locator on each request; private to this module. */
const GEO = Symbol("countersign.geo");
type LocatedRequest = Request & { [GEO]?: GeoLocator };

/**
 * Hands the app's geolocation database to every request, so clientContextOf can name where a
 * client is without each route taking it as a dependency. Mounted once, before every route.
 */
export function locateClients(options: { geo: GeoLocator }): RequestHandler {
  return (req, _res, next) => {
    (req as LocatedRequest)[GEO] = options.geo;
    next();
  };
}

/**
 * Where this request comes from: req.ip already honours TRUST_PROXY (a forwarded address is
 * believed only from a trusted proxy), and the place is looked up from it (locateClients).
 */
export function clientContextOf(req: Request): ClientContext {
  const geo = (req as LocatedRequest)[GEO];
  return describeClient({ userAgent: req.get("user-agent"), ip: req.ip, ...(geo === undefined ? {} : { geo }) });
}
