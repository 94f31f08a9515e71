import { createHash } from "node:crypto";
import { approverPushUrl, type LoginReview, type PushMessage } from "@countersign/shared";

/** Long enough for any app's name or place, short enough for every push service's payload limit. */
const MAX_TEXT = 120;

/**
 * The notification tag (and the push `Topic`) for a request: the same for the request and its
 * resolution, so the resolution replaces the request's notification on the phone, and a
 * resolution still waiting at the push service replaces a request not yet delivered. A Topic is at
 * most 32 base64url characters, whatever the length of the id: hence a hash of it (22 characters).
 */
export function pushTagOf(loginRequestId: string): string {
  return createHash("sha256").update(`push-tag:${loginRequestId}`, "utf8").digest("base64url").slice(0, 22);
}

/**
 * What a phone's notification says about a push request: what is asking (Countersign or the
 * app's name) and from where (the computer's browser and system, near which place). Nothing that
 * approves or helps approve: no number to pick, no app binding message, no token or address.
 */
export function buildRequestMessage(options: {
  review: LoginReview;
  publicOrigin: string;
}): Extract<PushMessage, { kind: "request" }> {
  const { review } = options;
  const { app, desktop } = review;
  const title = app === null ? "Sign-in request" : `Sign in to ${app.name}?`;
  let body: string;
  if (app?.via === "backchannel") {
    // The app's server asked, not a computer in front of the person: nothing to place.
    body = "The app asks you to approve. Open to review it.";
  } else {
    const device =
      desktop.browser !== null && desktop.os !== null ? `${desktop.browser} on ${desktop.os}` : desktop.label;
    body = desktop.place === null ? device : `${device} · near ${desktop.place}`;
  }
  return {
    v: 1,
    kind: "request",
    id: review.id,
    tag: pushTagOf(review.id),
    title: clip(title),
    body: clip(body),
    url: approverPushUrl({ origin: options.publicOrigin, id: review.id }),
    expiresAt: review.expiresAt,
  };
}

/** Tells every phone to close the request's notification: it was decided, replaced or expired. */
export function buildResolvedMessage(loginRequestId: string): Extract<PushMessage, { kind: "resolved" }> {
  return { v: 1, kind: "resolved", id: loginRequestId, tag: pushTagOf(loginRequestId) };
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}
