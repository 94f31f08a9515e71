import type { Request, Response } from "express";
import type { SessionKind, SessionResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import { readSessionToken, setSessionCookie } from "./session.cookies.js";
import type { NewSession, SessionService } from "./session.service.js";

/**
 * Answers a sign-in, however it happened: every sign-in gets a new session, so one this browser
 * already had (of the same kind) ends here, its pages told it was replaced; then the new cookie
 * and the session's view.
 */
export async function respondWithNewSession(
  req: Request,
  res: Response,
  options: { session: NewSession; sessions: SessionService; clock: Clock; secureCookies: boolean },
): Promise<void> {
  const { session, sessions, secureCookies } = options;
  const kind: SessionKind = session.record.kind;
  const previous = await sessions.findSession({
    token: readSessionToken(req.headers.cookie, { kind, secure: secureCookies }),
    kind,
  });
  if (previous !== null) await sessions.endSessions({ sessions: [previous], reason: "replaced" });
  setSessionCookie(res, {
    kind,
    secure: secureCookies,
    token: session.token,
    expiresAt: session.record.expiresAt,
    now: options.clock.now(),
  });
  const view = await sessions.describeSession(session.record);
  if (view === null) throw new AppError("UNAUTHENTICATED", "This account no longer exists.");
  const body: SessionResponse = { session: view };
  res.json(body);
}
