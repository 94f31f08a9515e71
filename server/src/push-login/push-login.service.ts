import type { ClientContextView, DesktopKey, CreatePushLoginResponse, PushReview } from "@countersign/shared";
import type { Clock } from "../clock.js";
import { networkOf } from "../context/network.js";
import type { ProximityJudge } from "../context/proximity.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { toLoginReview, toLoginView } from "../login-request/login-request.view.js";
import type { LoginRequestService } from "../login-request/login-request.service.js";
import type { Random } from "../random.js";
import { AppError } from "../app-error.js";
import type { EventChannel } from "../events/event-channel.js";
import type { ApprovalCeremonyStart, ApprovalService } from "../login-request/approval.service.js";
import type { LoginRequestEvents } from "../login-request/login-request.events.js";
import type { ClientContext, LoginApp, LoginRequestRecord, OidcRequestLink, Store } from "../store/store.js";
import { hmacToken } from "../tokens.js";

export interface PushLoginService {
  /**
   * Username-first sign-in (DESIGN §3.3). Answers the same way whether or not the username
   * exists, is paused or is over its limit: the request simply never reaches a phone then.
   */
  createPushLogin(options: {
    username: string;
    desktop: ClientContext;
    /** The public half of the desktop page's key (DESIGN §11). */
    desktopKey: DesktopKey;
    /** The app the person signs in to, named on the phone (OpenID Connect's QR page). */
    app?: LoginApp;
  }): Promise<CreatePushLoginResponse>;
  /**
   * Whom a push for `username` goes to: the account's id, or for an unknown name its pseudonym
   * (`unknown:…`, never an account id), so a caller can treat both alike until the request ends.
   */
  targetFor(username: string): Promise<string>;
  /**
   * An app's push (OpenID CIBA): like a username-first push, through the same pause, limits
   * (counted per app instead of per network), swap and inbox, but linked to the app's request
   * and with the app's binding message to compare instead of a number.
   */
  createAppPush(options: {
    /** From targetFor. */
    target: string;
    /** The app, as a limit and swap source ("app:<client id>"). */
    source: string;
    /** Derived from the app's request (see LoginRequestService.createOrFindLinked). */
    id: string;
    desktop: ClientContext;
    app: LoginApp;
    oidc: OidcRequestLink;
    expiresAt: number;
  }): Promise<LoginRequestRecord>;
  /** The push requests waiting for this person: at most one per requesting network. */
  inbox(options: { userId: string; viewer: ClientContext }): Promise<PushReview[]>;
  /** Until when pushes to this person are paused after "This wasn't me"; null when they are not. */
  pushesPausedUntil(options: { userId: string }): Promise<number | null>;
  /**
   * The phone picked a number: the right one opens the request for the passkey, a wrong one
   * denies it (number matching, DESIGN §3.3).
   */
  matchPush(options: {
    id: string;
    userId: string;
    /** The number picked; absent for an app's request, which has no number. */
    choice: number | undefined;
    phone: ClientContext;
  }): Promise<
    | { matched: true; request: LoginRequestRecord; approval: ApprovalCeremonyStart }
    | { matched: false; request: LoginRequestRecord }
  >;
}

/** Starts every unknown name's push target; account ids never contain a colon. */
export const UNKNOWN_TARGET_PREFIX = "unknown:";

/** What push-login/ tells the realtime layer: a push request for the person's phones. */
export interface PushRequested {
  userId: string;
  review: PushReview;
}

/** A push request as a phone lists it; see toLoginReview for `viewer` and `judge`. */
export function toPushReview(
  request: LoginRequestRecord,
  options: { viewer: ClientContextView | null; judge?: ProximityJudge },
): PushReview {
  const review = toLoginReview(request, options);
  // Far away: no numbers to pick from, so the person must type the one the computer shows,
  // which a person sent someone else's request cannot see (DESIGN §11).
  const farAway = review.proximity.verdict === "far_away";
  return { ...review, choices: farAway ? [] : (request.push?.choices ?? []) };
}

/**
 * Push sign-in, designed so that a desktop learns nothing about whether a username exists and a
 * stranger cannot get in the way of the person's own sign-in:
 *
 * - Every username has a push target: the account's id, or for an unknown name a pseudonym
 *   (HMAC of the name under the deployment's shared key, the same on every process). Everything
 *   after the lookup — pause check, limits, the pending-push swap and its supersede, the
 *   broadcast — runs on the target alone, so existing and unknown names take the same path,
 *   with the same store round trips and the same events. Only a real person's phones are in
 *   the room the broadcast goes to.
 * - A paused target, or one over a limit, still gets its request created and swapped in (marked
 *   undelivered: no phone sees it), so a desktop cannot tell "paused" or "limited" from
 *   "unknown" either.
 * - Limits count per target AND requesting network (an IPv4 address or IPv6 /64), and a new
 *   push replaces only the pending push from the same network. A stranger elsewhere can use
 *   up their own allowance, not the person's, and cannot supersede the person's request; the
 *   phone lists one pending request per network, each with where it comes from, and number
 *   matching tells them apart.
 * - A per-target ceiling across all networks bounds how often a phone can be asked at all (push
 *   fatigue). An attacker with many networks can still reach that ceiling; the person then
 *   signs in with the QR code, which no push limit affects, and "This wasn't me" pauses pushes.
 */
export function createPushLoginService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  logins: LoginRequestService;
  approvals: ApprovalService;
  loginEvents: LoginRequestEvents;
  rateLimits: RateLimits;
  /** Where push requests for phones are announced. */
  pushEvents: EventChannel<PushRequested>;
  /** How long pushes to a person pause after "This wasn't me". */
  pauseMs: number;
  /** Derives unknown names' pseudonyms; every process of a deployment must share it. */
  pseudonymKey: Uint8Array;
  /** How near each request's computer is to the phone listing it. */
  judge: ProximityJudge;
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

  function targetOf(options: { username: string; userId: string | null }): string {
    if (options.userId !== null) return options.userId;
    return `${UNKNOWN_TARGET_PREFIX}${hmacToken({ key: deps.pseudonymKey, message: `push-target:${options.username}`, bytes: 16 })}`;
  }

  /** Whether a push from `source` may reach `target` now: not paused, and under both limits. */
  async function mayPush(target: string, source: string): Promise<boolean> {
    if ((await store.pushesPausedUntil(target)) !== null) return false;
    if (!(await deps.rateLimits.tryConsume({ action: "pushFromSource", key: `${target}|${source}` }))) return false;
    return deps.rateLimits.tryConsume({ action: "pushToUser", key: target });
  }

  /** A newer push from the same network replaced this one. */
  async function supersede(id: string): Promise<void> {
    await deps.logins.transitions.apply({ request: id, event: "supersede" }).catch((error: unknown) => {
      // Lost a race: it was decided or expired meanwhile, or is gone. Nothing to replace.
      if (!(error instanceof AppError)) throw error;
    });
  }

  // Against push fatigue: someone is trying; stop asking this person for a while.
  deps.loginEvents.subscribe(async ({ before, after, actorUserId }) => {
    const reportedNow = after.status === "denied" && before?.status !== "denied" && after.denyReason === "not_me";
    if (!reportedNow || actorUserId === null || deps.pauseMs <= 0) return;
    await store.pausePushes({ userId: actorUserId, until: deps.clock.now() + deps.pauseMs });
  });

  /**
   * Swaps a new push request in for its (target, source) and tells the phones, unless it was held
   * back (paused or limited, decided by mayPush before it was made): then it is swapped in
   * undelivered, so nothing a requester sees changes.
   */
  async function announce(options: { request: LoginRequestRecord; target: string; source: string }): Promise<void> {
    const { request, target, source } = options;
    const delivered = request.push?.delivered === true;
    const previous = await store.swapPendingPush({
      userId: target,
      source,
      loginRequestId: request.id,
      until: request.expiresAt,
      delivered,
    });
    if (previous !== null && previous !== request.id) await supersede(previous);
    if (delivered) {
      // Every phone of the person hears it, each from its own address: none is the viewer here.
      // A phone lists it with its own verdict from the inbox (GET), which judges it for that phone.
      await deps.pushEvents.publish({ userId: target, review: toPushReview(request, { viewer: null }) });
    }
  }

  async function targetFor(username: string): Promise<string> {
    const user = await store.findUserByUsername(username);
    return targetOf({ username, userId: user?.id ?? null });
  }

  return {
    targetFor,

    pushesPausedUntil: ({ userId }) => store.pushesPausedUntil(userId),

    async createPushLogin({ username, desktop, desktopKey, app }) {
      const target = await targetFor(username);
      const source = networkOf(desktop.ip);
      const matchNumber = twoDigits();
      // Decided before the request is made, and kept on it, so that its end is announced (its
      // notification closed) only where it was announced at all.
      const delivered = await mayPush(target, source);
      const { request, desktopSecret } = await deps.logins.createLoginRequest({
        desktop,
        desktopKey,
        push: { userId: target, matchNumber, choices: choicesFor(matchNumber), delivered },
        ...(app === undefined ? {} : { app }),
      });
      await announce({ request, target, source });
      return { login: toLoginView(request), desktopSecret, matchNumber };
    },

    async createAppPush({ target, source, id, desktop, app, oidc, expiresAt }) {
      // The provider asks once per CIBA request, so this counts against the limits once.
      const delivered = await mayPush(target, source);
      const { request, created } = await deps.logins.createOrFindLinked({
        id,
        desktop,
        app,
        oidc,
        expiresAt,
        push: { userId: target, matchNumber: null, choices: [], delivered },
      });
      if (created) await announce({ request, target, source });
      return request;
    },

    async inbox({ userId, viewer }) {
      const ids = await store.listPendingPushes(userId);
      const requests = await Promise.all(ids.map((id) => deps.logins.expireIfDue(id)));
      return requests
        .filter(
          (request): request is LoginRequestRecord =>
            request !== null && (request.status === "pending" || request.status === "scanned"),
        )
        .sort((a, b) => b.createdAt - a.createdAt)
        .map((request) => toPushReview(request, { viewer, judge: deps.judge }));
    },

    async matchPush({ id, userId, choice, phone }) {
      const proof = { kind: "push", userId } as const;
      const request = await deps.approvals.getForPhone({ id, proof });
      const expected = request.push?.matchNumber ?? null;
      if (expected === null ? choice !== undefined : choice === undefined) {
        throw new AppError(
          "VALIDATION_FAILED",
          expected === null
            ? "This request has no number to pick; compare the app's message instead."
            : "Pick the number shown on the computer.",
        );
      }
      if (expected !== null && expected !== choice) {
        const denied = await deps.approvals.deny({ id, proof, reason: "number_mismatch", phone, actorUserId: userId });
        return { matched: false, request: denied };
      }
      return { matched: true, ...(await deps.approvals.open({ id, proof, phone, actorUserId: userId })) };
    },
  };
}
