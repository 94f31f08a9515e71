import { API_PATHS, type CreatePushLoginResponse, type SessionsResponse } from "@countersign/shared";
import { expect } from "vitest";
import { createLogin, enrolPhone, joinSecondPhone } from "./flows.js";
import { DESKTOP_UA, HttpClient, PHONE_UA } from "./http-client.js";
import { ApproverSocket } from "./socket-client.js";
import { SoftAuthenticator } from "./soft-authenticator.js";

/** Where each party talks to: one process, or (behind a "load balancer") several. */
export interface Deployment {
  /** The public origin every page sends. */
  origin: string;
  /** The process the first phone's socket is held by. */
  socketUrl: string;
  /** The process the HTTP requests go to. */
  httpUrl: string;
}

export interface TwoPhones {
  first: HttpClient;
  firstAuthenticator: SoftAuthenticator;
  second: HttpClient;
  firstSocket: ApproverSocket;
  secondSocket: ApproverSocket;
  close(): void;
}

/** One account with two signed-in phones, each with an open approver socket. */
export async function accountWithTwoPhones(options: {
  deployment: Deployment;
  username: string;
  /** Runs after the first phone enrolled and before the second joins (e.g. to move the clock). */
  beforeSecondPhone?: () => void;
}): Promise<TwoPhones> {
  const { deployment, username } = options;
  const client = (): HttpClient =>
    new HttpClient(deployment.httpUrl, { userAgent: PHONE_UA, origin: deployment.origin });
  const first = client();
  const firstAuthenticator = new SoftAuthenticator({ origin: deployment.origin });
  await enrolPhone(first, firstAuthenticator, { username, displayName: username });
  options.beforeSecondPhone?.();
  const second = client();
  await joinSecondPhone(first, second, new SoftAuthenticator({ origin: deployment.origin }));
  const firstSocket = new ApproverSocket(deployment.socketUrl, {
    cookie: first.cookieHeader,
    origin: deployment.origin,
  });
  const secondSocket = new ApproverSocket(deployment.httpUrl, {
    cookie: second.cookieHeader,
    origin: deployment.origin,
  });
  await Promise.all([firstSocket.connected(), secondSocket.connected()]);
  return {
    first,
    firstAuthenticator,
    second,
    firstSocket,
    secondSocket,
    close() {
      firstSocket.close();
      secondSocket.close();
    },
  };
}

/**
 * Proves that the first phone's socket, whose session has just ended, hears nothing of a later
 * push, while the account's other phone does. "Nothing" is checked against a marker: the socket
 * also watches a desktop request, which is cancelled right after the push; the same process
 * sends both in that order, so once the cancel has arrived, a push would have arrived before it.
 */
export async function expectNoPushAfterSessionEnded(options: {
  deployment: Deployment;
  phones: TwoPhones;
  username: string;
  endSession: () => Promise<void>;
  reason: string;
}): Promise<void> {
  const { deployment, phones } = options;
  await options.endSession();
  await phones.firstSocket.waitUntil(() => phones.firstSocket.sessionEnded.length > 0, "session:ended");
  expect(phones.firstSocket.sessionEnded).toEqual([{ reason: options.reason }]);

  const desktop = new HttpClient(deployment.httpUrl, { userAgent: DESKTOP_UA, origin: deployment.origin });
  const marker = await createLogin(desktop);
  expect(await phones.firstSocket.watch({ id: marker.login.id, desktopSecret: marker.desktopSecret })).toMatchObject({
    ok: true,
  });

  const pushed = await desktop.post<CreatePushLoginResponse>(API_PATHS.pushLogins, { username: options.username });
  expect(pushed.status).toBe(201);
  const cancelled = await desktop.post(API_PATHS.loginCancel(marker.login.id), { desktopSecret: marker.desktopSecret });
  expect(cancelled.status).toBe(200);

  await phones.secondSocket.waitUntil(
    () => phones.secondSocket.requests.some((review) => review.id === pushed.body.login.id),
    "the push on the other phone",
  );
  await phones.firstSocket.waitUntil(
    () => phones.firstSocket.updates.some((update) => update.status === "cancelled"),
    "the marker's cancel",
  );
  expect(phones.firstSocket.requests).toEqual([]);
}

/** The first phone's session id, as the account screen lists it. */
export async function sessionIdOf(phone: HttpClient, listedBy: HttpClient): Promise<string> {
  const { body } = await listedBy.get<SessionsResponse>(API_PATHS.approverSessions);
  const own = await phone.get<SessionsResponse>(API_PATHS.approverSessions);
  const current = own.body.sessions.find((session) => session.current);
  expect(current).toBeDefined();
  expect(body.sessions.map((session) => session.id)).toContain(current!.id);
  return current!.id;
}
