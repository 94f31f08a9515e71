import type { RequestHandler } from "express";
import helmet from "helmet";

/**
 * Security headers (DESIGN §6) with a strict Content-Security-Policy that the built apps pass;
 * the browser tests fail on any violation.
 */
export function securityHeaders(options: { secureCookies: boolean }): RequestHandler {
  const { secureCookies } = options;
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        // QR codes are shown as SVG data: URLs (the sign-in page draws its own, frame by frame).
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "manifest-src": ["'self'"],
        "worker-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        ...(secureCookies ? { "upgrade-insecure-requests": [] } : {}),
      },
    },
    strictTransportSecurity: secureCookies,
  });
}
