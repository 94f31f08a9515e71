import { existsSync } from "node:fs";
import path from "node:path";
import express, { type Router } from "express";
import { APPROVER_BASE_PATH, INTERACTION_BASE_PATH } from "@countersign/shared";

/**
 * Serves the built desktop app at / and the approver at /approve/ from this one origin
 * (DESIGN §1). Hashed assets are cached for a year; index.html never, so a deploy shows at once.
 */
export function serveApps(options: { webDist: string; approverDist: string }): { router: Router; missing: string[] } {
  const router = express.Router();
  const missing: string[] = [];
  const mount = (urlPath: string, dist: string): void => {
    const index = path.join(dist, "index.html");
    if (!existsSync(index)) {
      missing.push(dist);
      return;
    }
    router.use(
      urlPath,
      express.static(dist, {
        index: false,
        setHeaders(res, file) {
          res.setHeader(
            "Cache-Control",
            file.includes(`${path.sep}assets${path.sep}`) ? "public, max-age=31536000, immutable" : "no-cache",
          );
        },
      }),
    );
    // The desktop page also answers the provider's login and consent steps (/interaction/<uid>).
    const pagePaths = urlPath === "/" ? ["/", `${INTERACTION_BASE_PATH}:uid`] : [urlPath, `${urlPath}index.html`];
    router.get(pagePaths, (_req, res) => {
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(index);
    });
  };
  // /approve without the slash would resolve the app's relative asset paths against /.
  // Express routes ignore a trailing slash, so this compares the path itself.
  router.use((req, res, next) =>
    req.path === APPROVER_BASE_PATH.slice(0, -1) ? res.redirect(301, APPROVER_BASE_PATH) : next(),
  );
  mount(APPROVER_BASE_PATH, options.approverDist);
  mount("/", options.webDist);
  return { router, missing };
}
