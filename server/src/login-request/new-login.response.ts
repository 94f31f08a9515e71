import { formatUserCode, type CreateLoginResponse, type DesktopKey } from "@countersign/shared";
import type { Request, Response } from "express";
import type { ClientContext, LoginApp } from "../store/store.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { toLoginView } from "./login-request.view.js";
import type { LoginRequestService } from "./login-request.service.js";
import { toQrFrame } from "./qr-frame.js";

/**
 * Starts a QR sign-in for the desktop that asked, and answers with its QR's first frame, typed
 * code and the secret only this page holds: for Countersign itself, or for an app (named on the phone).
 */
export async function respondWithNewLogin(
  req: Request,
  res: Response,
  options: {
    logins: LoginRequestService;
    rateLimits: RateLimits;
    publicOrigin: string;
    /** Where the request comes from (the routes read it: req.ip honours TRUST_PROXY). */
    desktop: ClientContext;
    /** The public half of the page's key, from the request's body (validated by the route). */
    desktopKey: DesktopKey;
    app?: LoginApp;
  },
): Promise<void> {
  await options.rateLimits.consume({ action: "createLogin", key: req.ip ?? "unknown" });
  const { request, desktopSecret, qrFrame } = await options.logins.createLoginRequest({
    desktop: options.desktop,
    desktopKey: options.desktopKey,
    ...(options.app === undefined ? {} : { app: options.app }),
  });
  const body: CreateLoginResponse = {
    login: toLoginView(request),
    desktopSecret,
    userCode: formatUserCode(request.userCode),
    qr: toQrFrame({ id: request.id, frame: qrFrame, publicOrigin: options.publicOrigin }),
  };
  res.status(201).json(body);
}
