import type { ClientContextView, CreatePushLoginResponse, PushReview } from "@countersign/shared";
import { AppError } from "../app-error.js";
import type { Clock } from "../clock.js";
import type { RateLimits } from "../http/rate-limits.js";
import { toLoginReview, toLoginView } from "../login-request/login-request.view.js";
import type { LoginRequestService } from "../login-request/login-request.service.js";
import { randomToken, type Random } from "../random.js";
import type { RealtimePublisher } from "../realtime/realtime.publisher.js";
import type { ClientContext, LoginRequestRecord, Store } from "../store/store.js";

export interface PushLoginService {
  /**
   * Username-first sign-in (DESIGN §3.3). Answers the same way whether or not the username
   * exists, is paused or is over its limit: the request simply never reaches a phone then.
   */
  createPushLogin(options: { username: string; desktop: ClientContext }): Promise<CreatePushLoginResponse>;
  /** The push request waiting for this person, if any (at most one at a time). */
  inbox(options: { userId: string; viewer: ClientContext }): Promise<PushReview[]>;
}

export function toPushReview(request: LoginRequestRecord, options: { viewer: ClientContextView }): PushReview {
  return { ...toLoginReview(request, options), choices: request.push?.choices ?? [] };
}

export function createPushLoginService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  logins: LoginRequestService;
  rateLimits: RateLimits;
  publisher: RealtimePublisher;
}): PushLoginService {
  const { store, random } = deps;

  /** A uniform number 10–99 by rejection sampling. */
  function twoDigits(): number {
    for (;;) {
      const byte = random.bytes(1)[0]!;
      if (byte < 180) return 10 + (byte % 90);
    }
  }

  /** The right number and two other distinct ones, in random order. */
  function choicesFor(matchNumber: number): number[] {
    const choices = [matchNumber];
    while (choices.length < 3) {
      const candidate = twoDigits();
      if (!choices.includes(candidate)) choices.push(candidate);
    }
    for (let index = choices.length - 1; index > 0; index -= 1) {
      const other = random.bytes(1)[0]! % (index + 1);
      [choices[index], choices[other]] = [choices[other]!, choices[index]!];
    }
    return choices;
  }

  /** Whether a push may reach this person now: not paused, and under their limit. */
  async function mayPush(userId: string): Promise<boolean> {
    if ((await store.pushesPausedUntil(userId)) !== null) return false;
    try {
      await deps.rateLimits.consume({ action: "pushToUser", key: userId });
      return true;
    } catch (error) {
      if (error instanceof AppError && error.code === "RATE_LIMITED") return false;
      throw error;
    }
  }

  return {
    async createPushLogin({ username, desktop }) {
      const user = await store.findUserByUsername(username);
      const matchNumber = twoDigits();
      const { request, desktopSecret } = await deps.logins.createLoginRequest({
        desktop,
        // An unknown username still gets a real request, sent to nobody (userId "" is no one's).
        push: { userId: user?.id ?? "", matchNumber, choices: choicesFor(matchNumber) },
      });
      // The same store round trips either way, so the answer's timing says nothing either.
      const recipient = user?.id ?? `nobody:${randomToken(random, 16)}`;
      if ((await mayPush(recipient)) && user !== null) {
        const previous = await store.swapPendingPush({
          userId: user.id,
          loginRequestId: request.id,
          until: request.expiresAt,
        });
        // One pending push per person: the older one is replaced, and its desktop is told.
        if (previous !== null && previous !== request.id) await deps.logins.supersede(previous);
        deps.publisher.pushRequested({ userId: user.id, review: toPushReview(request, { viewer: desktop }) });
      }
      return { login: toLoginView(request), desktopSecret, matchNumber };
    },

    async inbox({ userId, viewer }) {
      const id = await store.getPendingPush(userId);
      const request = id === null ? null : await deps.logins.expireIfDue(id);
      if (request === null || (request.status !== "pending" && request.status !== "scanned")) return [];
      return [toPushReview(request, { viewer })];
    },
  };
}
