import type { Request } from "express";
import { AppError } from "../app-error.js";
import { readSessionToken, setSessionCookie } from "./session.cookies.js";
import type { SessionService } from "./session.service.js";
import type { SessionRecord } from "../store/store.js";

/**
 * The phone's own session from this request's cookie, or null. Using it is what keeps it alive:
 * a session that slid forward gets its cookie re-set with the new lifetime, so a phone in use
 * is never signed out by its browser either. Every approver route finds its session here.
 */
export async function findApprover(
  req: Request,
  deps: { sessions: SessionService; secureCookies: boolean },
): Promise<SessionRecord | null> {
  const token = readSessionToken(req.headers.cookie, { kind: "approver", secure: deps.secureCookies });
  const found = await deps.sessions.findSession({ token, kind: "approver" });
  if (found === null || token === null) return null;
  const approver = await deps.sessions.slideSession(found);
  // Express links each request to its response; taking it from there spares every route the
  // extra parameter, and leaves a route without one (none today) simply unrenewed.
  if (approver !== null && approver.expiresAt !== found.expiresAt && req.res !== undefined) {
    setSessionCookie(req.res, {
      kind: "approver",
      secure: deps.secureCookies,
      token,
      expiresAt: approver.expiresAt,
      // A slide sets lastSeenAt to its own now: the cookie lives exactly as long as the session.
      now: approver.lastSeenAt,
    });
  }
  return approver;
}

/** The phone's own session, or UNAUTHENTICATED: every account and inbox route needs it. */
export async function requireApprover(
  req: Request,
  deps: { sessions: SessionService; secureCookies: boolean },
): Promise<SessionRecord> {
  const approver = await findApprover(req, deps);
  if (approver === null) throw new AppError("UNAUTHENTICATED", "Sign in on this phone first.");
  return approver;
}
