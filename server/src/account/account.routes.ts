import { Router, type Request } from "express";
import {
  API_PATHS,
  type ActivityResponse,
  type PasskeysResponse,
  type SessionsResponse,
  type SignOutComputersResponse,
} from "@countersign/shared";
import { z } from "zod";
import { parseInput } from "../http/validate.js";
import { requireApprover } from "../session/approver-session.js";
import type { SessionService } from "../session/session.service.js";
import type { SessionRecord } from "../store/store.js";
import type { AccountService } from "./account.service.js";

/** Session ids and credential ids are base64url; a credential id is at most 1023 bytes. */
const idParams = z.object({
  id: z
    .string()
    .min(1)
    .max(1364)
    .regex(/^[A-Za-z0-9_-]+$/, "expects a base64url id"),
});

/** The account screens of the approver app; every route needs the approver's own session. */
export function accountRoutes(deps: {
  account: AccountService;
  sessions: SessionService;
  secureCookies: boolean;
}): Router {
  const router = Router();
  const { account } = deps;

  const approverOf = (req: Request): Promise<SessionRecord> => requireApprover(req, deps);

  router.get(API_PATHS.approverSessions, async (req, res) => {
    const body: SessionsResponse = { sessions: await account.listSessions({ approver: await approverOf(req) }) };
    res.json(body);
  });

  router.delete(API_PATHS.approverSessionById(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    await account.revokeSession({ approver: await approverOf(req), sessionId: id });
    res.status(204).end();
  });

  router.post(API_PATHS.approverSignOutComputers, async (req, res) => {
    const body: SignOutComputersResponse = {
      signedOut: await account.signOutComputers({ approver: await approverOf(req) }),
    };
    res.json(body);
  });

  router.get(API_PATHS.approverActivity, async (req, res) => {
    const body: ActivityResponse = { activity: await account.listActivity({ approver: await approverOf(req) }) };
    res.json(body);
  });

  router.get(API_PATHS.approverPasskeys, async (req, res) => {
    const body: PasskeysResponse = { passkeys: await account.listPasskeys({ approver: await approverOf(req) }) };
    res.json(body);
  });

  router.delete(API_PATHS.approverPasskey(":id"), async (req, res) => {
    const { id } = parseInput(idParams, req.params);
    await account.removePasskey({ approver: await approverOf(req), passkeyId: id });
    res.status(204).end();
  });

  return router;
}
