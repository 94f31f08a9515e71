import type { Request } from "express";
import { describeClient } from "../context/client-context.js";
import type { ClientContext } from "../store/store.js";

/** Where this request comes from; req.ip already honours TRUST_PROXY. */
export function clientContextOf(req: Request): ClientContext {
  return describeClient({ userAgent: req.get("user-agent"), ip: req.ip });
}
