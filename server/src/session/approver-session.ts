import type { Request } from "express";
import { AppError } from "../app-error.js";
import { readSessionToken } from "./session.cookies.js";
import type { SessionService } from "./session.service.js";
import type { SessionRecord } from "../store/store.js";

/** The phone's own session, or UNAUTHENTICATED: every account and inbox route needs it. */
export async function requireApprover(
  req: Request,
  deps: { sessions: SessionService; secureCookies: boolean },
): Promise<SessionRecord> {
  const token = readSessionToken(req.headers.cookie, { kind: "approver", secure: deps.secureCookies });
  const approver = await deps.sessions.findSession({ token, kind: "approver" });
  if (approver === null) throw new AppError("UNAUTHENTICATED", "Sign in on this phone first.");
  return approver;
}
