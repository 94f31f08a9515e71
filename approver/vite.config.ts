import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/**
 * Names the service worker's shell cache after the bundle it belongs to, so a deploy changes
 * sw.js (the browser then installs it) and the new worker drops the old shell.
 */
function serviceWorkerBuildId(): Plugin {
  let outDir = "dist";
  const digest = createHash("sha256");
  return {
    name: "countersign-sw-build-id",
    apply: "build",
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    generateBundle(_options, bundle) {
      for (const name of Object.keys(bundle).sort()) digest.update(name);
    },
    closeBundle() {
      const file = path.join(outDir, "sw.js");
      const source = readFileSync(file, "utf8");
      writeFileSync(file, source.replace("__BUILD_ID__", digest.copy().digest("hex").slice(0, 12)));
    },
  };
}

// Served under /approve/ by the server; in development, reached through the web dev server.
export default defineConfig({
  base: "/approve/",
  plugins: [react(), serviceWorkerBuildId()],
  build: { outDir: "dist", emptyOutDir: true },
  server: { port: 5174, strictPort: true },
});
