import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_PATHS } from "@countersign/shared";
import { approveOpened, createLogin, enrolPhone, openFromQr, qrLinkOf } from "../support/flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "../support/http-client.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

let server: TestServer;
const lines: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ logSink: { write: (line: string) => void lines.push(line) } });
});

afterAll(async () => {
  await server.close();
});

describe("logs", () => {
  it("record requests but never a secret, token, cookie or user code", async () => {
    const phone = new HttpClient(server.origin, { userAgent: PHONE_UA });
    const desktop = new HttpClient(server.origin, { userAgent: DESKTOP_UA });
    const authenticator = new SoftAuthenticator({ origin: server.origin });
    await enrolPhone(phone, authenticator, { username: "quiet", displayName: "Quiet" });
    const login = await createLogin(desktop);
    const opened = await openFromQr(phone, login);
    await approveOpened(phone, authenticator, opened);
    await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });
    await desktop.get(API_PATHS.session);
    // A failing request too: errors are where secrets tend to leak.
    await desktop.post(API_PATHS.loginRedeem(login.login.id), { desktopSecret: login.desktopSecret });

    const log = lines.join("");
    expect(lines.length).toBeGreaterThan(5);
    const secrets = [
      login.desktopSecret,
      qrLinkOf(login).qrToken,
      opened.qrToken,
      login.userCode,
      login.userCode.replace("-", ""),
      ...desktop.cookies.values(),
      ...phone.cookies.values(),
    ];
    for (const secret of secrets) expect(log).not.toContain(secret);
  });
});
