import { describe, expect, it } from "vitest";
import { parseApproverPushFragment, type LoginReview } from "@countersign/shared";
import { DESKTOP } from "../testing/fixtures.js";
import { buildRequestMessage, buildResolvedMessage, pushTagOf } from "./web-push.message.js";

const ORIGIN = "https://countersign.example";

function review(overrides: Partial<LoginReview> = {}): LoginReview {
  return {
    id: "Zm9vYmFyYmF6cXV4MTIzNA",
    status: "pending",
    createdAt: 1_000,
    expiresAt: 121_000,
    desktop: DESKTOP,
    proximity: { verdict: "unknown", distanceKm: null, otherCountry: false },
    risks: [],
    app: null,
    ...overrides,
  };
}

describe("buildRequestMessage", () => {
  it("says a sign-in asks, from which browser, system and place, and leads to the request", () => {
    const message = buildRequestMessage({
      review: review({ desktop: { ...DESKTOP, place: "Oslo, Norway" } }),
      publicOrigin: ORIGIN,
    });
    expect(message).toEqual({
      v: 1,
      kind: "request",
      id: "Zm9vYmFyYmF6cXV4MTIzNA",
      tag: pushTagOf("Zm9vYmFyYmF6cXV4MTIzNA"),
      title: "Sign-in request",
      body: "Firefox on macOS · near Oslo, Norway",
      url: `${ORIGIN}/approve/#/push/Zm9vYmFyYmF6cXV4MTIzNA`,
      expiresAt: 121_000,
    });
    expect(parseApproverPushFragment(new URL(message.url).hash)).toEqual({ id: "Zm9vYmFyYmF6cXV4MTIzNA" });
  });

  it("falls back on the device's label when browser or system is unknown, and leaves out an unknown place", () => {
    const message = buildRequestMessage({
      review: review({ desktop: { ...DESKTOP, browser: null, label: "Unknown device · unknown browser" } }),
      publicOrigin: ORIGIN,
    });
    expect(message).toMatchObject({ body: "Unknown device · unknown browser" });
  });

  it("names the app an app's request is for, and never its binding message", () => {
    const viaBrowser = buildRequestMessage({
      review: review({ app: { name: "Photo Album", via: "browser", bindingMessage: null } }),
      publicOrigin: ORIGIN,
    });
    expect(viaBrowser).toMatchObject({ title: "Sign in to Photo Album?", body: "Firefox on macOS" });
    const backchannel = buildRequestMessage({
      review: review({ app: { name: "Bank", via: "backchannel", bindingMessage: "ZEBRA-42" } }),
      publicOrigin: ORIGIN,
    });
    expect(backchannel).toMatchObject({ title: "Sign in to Bank?" });
    expect(JSON.stringify(backchannel)).not.toContain("ZEBRA");
    expect(JSON.stringify(backchannel)).not.toContain(DESKTOP.ip!);
  });

  it("clips long texts so that the payload stays small", () => {
    const message = buildRequestMessage({
      review: review({ app: { name: "A".repeat(500), via: "browser", bindingMessage: null } }),
      publicOrigin: ORIGIN,
    });
    expect(message.title.length).toBe(120);
  });
});

describe("pushTagOf and buildResolvedMessage", () => {
  it("gives a request and its resolution one tag, fit for a push Topic (≤32 base64url characters)", () => {
    const id = "A".repeat(64);
    const tag = pushTagOf(id);
    expect(tag).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(buildResolvedMessage(id)).toEqual({ v: 1, kind: "resolved", id, tag });
    expect(pushTagOf("B".repeat(64))).not.toBe(tag);
  });
});
