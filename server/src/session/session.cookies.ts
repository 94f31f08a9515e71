import { parse, serialize } from "cookie";
import type { Response } from "express";
import type { SessionKind } from "@countersign/shared";

/**
 * Session cookies (DESIGN §6): httpOnly, SameSite=Lax, and under https Secure with the
 * __Host- prefix, which pins them to this exact host and path /.
 */
export function sessionCookieName(options: { kind: SessionKind; secure: boolean }): string {
  return `${options.secure ? "__Host-" : ""}cs-${options.kind}`;
}

export function setSessionCookie(
  res: Response,
  options: { kind: SessionKind; secure: boolean; token: string; expiresAt: number; now: number },
): void {
  res.cookie(sessionCookieName(options), options.token, {
    httpOnly: true,
    sameSite: "lax",
    secure: options.secure,
    path: "/",
    maxAge: Math.max(0, options.expiresAt - options.now),
  });
}

export function clearSessionCookie(res: Response, options: { kind: SessionKind; secure: boolean }): void {
  res.clearCookie(sessionCookieName(options), { httpOnly: true, sameSite: "lax", secure: options.secure, path: "/" });
}

/** The session token from a Cookie header, or null. */
export function readSessionToken(
  cookieHeader: string | undefined,
  options: { kind: SessionKind; secure: boolean },
): string | null {
  if (cookieHeader === undefined) return null;
  const value = parse(cookieHeader)[sessionCookieName(options)];
  return value === undefined || value === "" ? null : value;
}

/** A Set-Cookie header value that removes the desktop session cookie (for responses Express does not build). */
export function expiredSessionCookie(options: { secure: boolean }): string {
  return serialize(sessionCookieName({ kind: "desktop", secure: options.secure }), "", {
    httpOnly: true,
    sameSite: "lax",
    secure: options.secure,
    path: "/",
    expires: new Date(0),
  });
}
