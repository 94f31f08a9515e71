import { Router } from "express";
import { API_PATHS, oidcAppParamsSchema, type OidcAppsResponse } from "@countersign/shared";
import { parseInput } from "../http/validate.js";
import { requireApprover } from "../session/approver-session.js";
import type { SessionService } from "../session/session.service.js";
import type { OidcAppsService } from "./oidc.apps.js";

/** "Apps you signed in to" on the phone; every route needs the approver's own session. */
export function oidcAppsRoutes(deps: {
  apps: OidcAppsService;
  sessions: SessionService;
  secureCookies: boolean;
}): Router {
  const router = Router();
  const { apps } = deps;

  router.get(API_PATHS.approverApps, async (req, res) => {
    const approver = await requireApprover(req, deps);
    const body: OidcAppsResponse = { apps: await apps.listApps({ userId: approver.userId }) };
    res.json(body);
  });

  router.delete(API_PATHS.approverApp(":clientId"), async (req, res) => {
    const { clientId } = parseInput(oidcAppParamsSchema, req.params);
    const approver = await requireApprover(req, deps);
    await apps.removeApp({ userId: approver.userId, clientId });
    res.status(204).end();
  });

  return router;
}
