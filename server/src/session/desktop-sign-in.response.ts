import type { Request, Response } from "express";
import type { SessionResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import { readSessionToken, setSessionCookie } from "./session.cookies.js";
import type { NewSession, SessionService } from "./session.service.js";

/**
 * Answers a desktop sign-in, however it happened: every sign-in gets a new session, so one
 * this browser already had ends here; then the new cookie and the session's view.
 */
export async function respondWithDesktopSession(
  req: Request,
  res: Response,
  options: { session: NewSession; sessions: SessionService; clock: Clock; secureCookies: boolean },
): Promise<void> {
  const { session, sessions, secureCookies } = options;
  const previous = readSessionToken(req.headers.cookie, { kind: "desktop", secure: secureCookies });
  if (previous !== null) await sessions.endSession({ token: previous, kind: "desktop" });
  setSessionCookie(res, {
    kind: "desktop",
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
