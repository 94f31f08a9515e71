import { Router } from "express";
import {
  API_PATHS,
  APPROVER_BASE_PATH,
  approverDeviceUrl,
  openDeviceApprovalBodySchema,
  type OpenApprovalResponse,
} from "@countersign/shared";
import { AppError } from "../app-error.js";
import { clientContextOf } from "../http/client-context.middleware.js";
import { parseInput } from "../http/validate.js";
import type { ApprovalService } from "../login-request/approval.service.js";
import { toLoginReview } from "../login-request/login-request.view.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import type { DeviceApprovals } from "./oidc.async-grants.js";
import { OIDC_MOUNT_PATH } from "./oidc.provider.js";

/**
 * The device authorization grant's verification page (RFC 8628 §3.3) is the approver app: the
 * provider's `verification_uri(_complete)` is <issuer>/device, which sends the phone there with
 * the code in the fragment (never to a server log). The library's own HTML form flow under
 * /device is closed, so every device code is decided through the phone's passkey approval.
 * Mounted before the provider.
 */
export function oidcDeviceVerificationRoutes(deps: { publicOrigin: string }): Router {
  const router = Router();
  const path = `${OIDC_MOUNT_PATH}/device`;
  router.get(path, (req, res) => {
    const userCode = typeof req.query.user_code === "string" ? req.query.user_code.slice(0, 32) : "";
    const target = /^[A-Za-z0-9-]{1,32}$/.test(userCode)
      ? approverDeviceUrl({ origin: deps.publicOrigin, userCode })
      : `${deps.publicOrigin}${APPROVER_BASE_PATH}`;
    res.set("Cache-Control", "no-store").redirect(303, target);
  });
  // The form's POST and the library's resume steps (/device/<uid>/…); /device/auth, where a
  // device asks for its code, stays the library's.
  router.all([path, `${path}/:step`, `${path}/:step/*rest`], (req, _res, next) => {
    if (req.params.step === "auth" && req.params.rest === undefined) {
      next();
      return;
    }
    next(new AppError("NOT_FOUND", "Enter the device's code in the Countersign app on your phone."));
  });
  return router;
}

/** The phone opens a device's sign-in by its code; then it approves or denies as after a QR scan. */
export function oidcDeviceApprovalRoutes(deps: {
  devices: DeviceApprovals;
  approvals: ApprovalService;
  rateLimits: RateLimits;
}): Router {
  const router = Router();
  router.post(API_PATHS.approvalsOpenDevice, async (req, res) => {
    const { userCode } = parseInput(openDeviceApprovalBodySchema, req.body);
    await deps.rateLimits.consume({ action: "openApproval", key: req.ip ?? "unknown" });
    // Device codes are short enough to guess at scale: the same limit as typed sign-in codes.
    await deps.rateLimits.consume({ action: "lookupUserCode", key: req.ip ?? "unknown" });
    const phone = clientContextOf(req);
    const { request, capability } = await deps.devices.findByUserCode({ userCode });
    const opened = await deps.approvals.open({
      id: request.id,
      proof: { kind: "qr", qrToken: capability },
      phone,
      actorUserId: null,
    });
    const body: OpenApprovalResponse = {
      review: toLoginReview(opened.request, { viewer: phone }),
      qrToken: capability,
      approval: opened.approval,
    };
    res.json(body);
  });
  return router;
}
