import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
let root: string;

/** A stand-in for a Vite build: an index.html and one hashed asset. */
function fakeBuild(dir: string, title: string): void {
  mkdirSync(path.join(dir, "assets"), { recursive: true });
  writeFileSync(path.join(dir, "index.html"), `<!doctype html><title>${title}</title>`);
  writeFileSync(path.join(dir, "assets", "index-abc123.js"), `console.log(${JSON.stringify(title)})`);
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), "countersign-apps-"));
  fakeBuild(path.join(root, "web"), "desktop");
  fakeBuild(path.join(root, "approver"), "approver");
  server = await startTestServer({
    apps: { webDist: path.join(root, "web"), approverDist: path.join(root, "approver") },
  });
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe("one origin serves both apps", () => {
  it("serves the desktop app at / and the approver at /approve/, with a strict CSP", async () => {
    const desktop = await fetch(`${server.origin}/`);
    expect(await desktop.text()).toContain("<title>desktop</title>");
    const csp = desktop.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(desktop.headers.get("cache-control")).toBe("no-cache");

    const approver = await fetch(`${server.origin}/approve/`);
    expect(await approver.text()).toContain("<title>approver</title>");
  });

  it("redirects /approve to /approve/ so relative asset paths resolve", async () => {
    const response = await fetch(`${server.origin}/approve`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/approve/");
  });

  it("caches hashed assets for a year and answers unknown paths with a JSON 404", async () => {
    const asset = await fetch(`${server.origin}/approve/assets/index-abc123.js`);
    expect(await asset.text()).toContain("approver");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    const missing = await fetch(`${server.origin}/nothing.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: "NOT_FOUND", message: "Not found." } });
  });
});
