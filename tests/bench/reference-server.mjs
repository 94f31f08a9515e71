/**
 * The stack's own floor (bench/sign-in-throughput.scenario.ts): Express 5 with express.json() and
 * Socket.IO on one HTTP server, answering the same round trips a Countersign sign-in makes (a
 * socket, a watch with an acknowledgement, five HTTP requests, one event to the desktop) with
 * answers of about the same size, and doing nothing else: no store, no crypto, no validation, no
 * logging. What Countersign spends above this is its own work.
 *
 * Plain JavaScript, started like the server (`node --import process-probe.mjs`), so both run
 * without a TypeScript loader. Listens on HOST:PORT and accepts sockets from PUBLIC_ORIGIN.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import process from "node:process";
import express from "express";
import { Server } from "socket.io";

const port = Number(process.env.PORT);
const origin = process.env.PUBLIC_ORIGIN;
/** Room per request id, as the real server keeps; entries live until redeemed. */
const requests = new Map();
const filler = (bytes) =>
  randomBytes(Math.ceil((bytes * 3) / 4))
    .toString("base64url")
    .slice(0, bytes);

const app = express();
app.use(express.json({ limit: "64kb" }));
app.get("/healthz", (_req, res) => res.json({ ok: true }));
app.post("/api/logins", (_req, res) => {
  const id = filler(22);
  requests.set(id, { secret: filler(43) });
  res.status(201).json({
    login: { id, status: "pending", version: 1, createdAt: Date.now(), expiresAt: Date.now() + 120_000 },
    desktopSecret: requests.get(id).secret,
    userCode: "ABCD-EFGH",
    qr: { id, step: 0, token: filler(22), url: `${origin}/approve/#/r/${id}.${filler(22)}` },
  });
});
app.post("/api/approvals/open", (req, res) => {
  const { id } = req.body;
  io.to(id).emit("login:update", { id, status: "scanned", version: 2 });
  res.json({
    review: { id, desktop: { browser: "Chrome", os: "macOS", deviceType: "desktop", ip: "127.0.0.1" }, risks: [] },
    qrToken: filler(43),
    approval: { ceremonyId: filler(22), options: { challenge: filler(43), rpId: "localhost", timeout: 60_000 } },
  });
});
app.post("/api/logins/:id/approve", (req, res) => {
  const { id } = req.params;
  io.to(id).emit("login:update", { id, status: "approved", version: 3, redeemBy: Date.now() + 30_000 });
  res.json({ review: { id, risks: [] }, user: { id: filler(22), username: "bench", displayName: "Bench" } });
});
app.post("/api/logins/:id/redeem", (req, res) => {
  requests.delete(req.params.id);
  res.cookie("cs-desktop", filler(43), { httpOnly: true, sameSite: "lax", path: "/" });
  res.json({ session: { kind: "desktop", user: { username: "bench", displayName: "Bench" } } });
});
app.get("/api/session", (req, res) => {
  if (!req.headers.cookie?.includes("cs-desktop=")) return res.status(401).json({ error: { code: "UNAUTHENTICATED" } });
  res.json({ session: { kind: "desktop", user: { username: "bench", displayName: "Bench" } } });
});

const httpServer = createServer(app);
const io = new Server(httpServer, {
  serveClient: false,
  allowRequest: (req, callback) => callback(null, req.headers.origin === origin),
});
io.on("connection", (socket) => {
  socket.on("login:watch", (payload, ack) => {
    if (!requests.has(payload?.id)) return ack({ ok: false, error: { code: "NOT_FOUND" } });
    socket.join(payload.id);
    ack({ ok: true, login: { id: payload.id, status: "pending", version: 1 }, qr: null });
  });
});
httpServer.listen(port, process.env.HOST ?? "127.0.0.1");
const stop = () => {
  io.close();
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
