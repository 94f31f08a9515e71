import { randomBytes } from "node:crypto";
import { SOCKET_EVENTS } from "@countersign/shared";
import { DESKTOP_UA, PHONE_UA } from "../src/support/http-client.js";
import { cookiePair, expectJson, type LoadHttp } from "./load-http.js";
import { connectDesktopSocket } from "./sign-in.load.js";

const filler = (chars: number): string => randomBytes(chars).toString("base64url").slice(0, chars);

/** About the size of a real assertion (sign-in.load.ts sends one made by the software authenticator). */
const credentialLike = (): unknown => ({
  id: filler(43),
  rawId: filler(43),
  type: "public-key",
  response: {
    clientDataJSON: filler(180),
    authenticatorData: filler(50),
    signature: filler(96),
    userHandle: filler(43),
  },
  clientExtensionResults: {},
  authenticatorAttachment: "platform",
});

/**
 * One "sign-in" against reference-server.mjs: the same socket, acknowledgement, event and five
 * HTTP round trips as sign-in.load.ts's signIn, with bodies of about the same size, so the
 * server's CPU per round of it is the Express + Socket.IO floor under a Countersign sign-in.
 */
export async function referenceSignIn(options: { origin: string; http: LoadHttp }): Promise<void> {
  const { origin, http } = options;
  const desktop = { origin, "user-agent": DESKTOP_UA };
  const phone = { origin, "user-agent": PHONE_UA, cookie: `cs-approver=${filler(43)}` };
  const socket = await connectDesktopSocket(origin);
  try {
    const created = expectJson<{ login: { id: string }; desktopSecret: string; qr: { token: string } }>(
      "reference create",
      await http.send({
        method: "POST",
        path: "/api/logins",
        headers: desktop,
        json: { desktopKey: { kty: "EC", crv: "P-256", x: filler(43), y: filler(43) } },
      }),
      201,
    );
    const { id } = created.login;
    const approved = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("reference: no approved event within 15 s")), 15_000);
      socket.on(SOCKET_EVENTS.loginUpdate, (login) => {
        if (login.status !== "approved") return;
        clearTimeout(timer);
        resolve();
      });
    });
    approved.catch(() => undefined);
    const watched = await socket
      .timeout(15_000)
      .emitWithAck(SOCKET_EVENTS.loginWatch, { id, desktopSecret: created.desktopSecret, proof: filler(220) });
    if (!watched.ok) throw new Error(`reference watch: expected ok, got ${JSON.stringify(watched.error)}`);
    const opened = expectJson<{ qrToken: string; approval: { ceremonyId: string } }>(
      "reference open",
      await http.send({
        method: "POST",
        path: "/api/approvals/open",
        headers: phone,
        json: { id, qrToken: created.qr.token },
      }),
      200,
    );
    expectJson(
      "reference approve",
      await http.send({
        method: "POST",
        path: `/api/logins/${id}/approve`,
        headers: phone,
        json: { qrToken: opened.qrToken, ceremonyId: opened.approval.ceremonyId, credential: credentialLike() },
      }),
      200,
    );
    await approved;
    const redeemed = await http.send({
      method: "POST",
      path: `/api/logins/${id}/redeem`,
      headers: desktop,
      json: { desktopSecret: created.desktopSecret, proof: filler(220) },
    });
    expectJson("reference redeem", redeemed, 200);
    const session = cookiePair(redeemed.setCookie, "cs-desktop");
    expectJson(
      "reference session",
      await http.send({ method: "GET", path: "/api/session", headers: { ...desktop, cookie: session ?? "" } }),
      200,
    );
  } finally {
    socket.close();
  }
}
