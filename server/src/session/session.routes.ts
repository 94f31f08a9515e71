import { Router } from "express";
import { API_PATHS, type SessionKind, type SessionResponse } from "@countersign/shared";
import { AppError } from "../app-error.js";
import { findApprover } from "./approver-session.js";
import { clearSessionCookie, readSessionToken } from "./session.cookies.js";
import type { SessionService } from "./session.service.js";

/** Who am I and sign out, for the desktop (/api/session) and the approver (/api/approver/session). */
export function sessionRoutes(deps: { sessions: SessionService; secureCookies: boolean }): Router {
  const router = Router();
  const routes: [string, SessionKind][] = [
    [API_PATHS.session, "desktop"],
    [API_PATHS.approverSession, "approver"],
  ];
  for (const [path, kind] of routes) {
    router.get(path, async (req, res) => {
      // The app asks on every open: that use keeps a phone's session alive.
      const session =
        kind === "approver"
          ? await findApprover(req, deps)
          : await deps.sessions.findSession({
              token: readSessionToken(req.headers.cookie, { kind, secure: deps.secureCookies }),
              kind,
            });
      const view = session === null ? null : await deps.sessions.describeSession(session);
      if (view === null) throw new AppError("UNAUTHENTICATED", "Not signed in.");
      const body: SessionResponse = { session: view };
      res.json(body);
    });

    router.delete(path, async (req, res) => {
      const token = readSessionToken(req.headers.cookie, { kind, secure: deps.secureCookies });
      if (token !== null) await deps.sessions.endSession({ token, kind });
      clearSessionCookie(res, { kind, secure: deps.secureCookies });
      res.status(204).end();
    });
  }
  return router;
}
