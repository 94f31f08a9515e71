import { DESKTOP_KEY } from "../testing/desktop-key.js";
import { describe, expect, it } from "vitest";
import type { Proximity } from "@countersign/shared";
import type { ClientContext } from "../store/store.js";
import { enrolPerson, FAR_DESKTOP, PHONE } from "../testing/fixtures.js";
import { ADDRESSES, testGeoLocator } from "../testing/places.js";
import { createTestServices } from "../testing/test-services.js";
import { proximityAfterOpening } from "./login-request.proximity.js";
import { toLoginReview } from "./login-request.view.js";

const SYDNEY_DESKTOP: ClientContext = { ...FAR_DESKTOP, ip: ADDRESSES.sydney, place: "Sydney, Australia" };
const STOCKHOLM_PHONE: ClientContext = { ...PHONE, ip: ADDRESSES.stockholm, place: "Stockholm, Sweden" };
/** The relayer's own phone, beside the computer it wants the victim to approve. */
const SYDNEY_PHONE: ClientContext = { ...PHONE, ip: ADDRESSES.sydney, place: "Sydney, Australia" };
const FAR: Proximity = { verdict: "far_away", distanceKm: 15_596, otherCountry: true };

async function withAda(env: Record<string, string> = {}) {
  const setup = createTestServices({ env, geo: testGeoLocator() });
  const { user } = await enrolPerson({ store: setup.store, clock: setup.clock, username: "ada" });
  return { ...setup, ada: user };
}

describe("the proximity a request keeps when a phone opens it", () => {
  it("stores the opening phone's verdict and shows it, with a plain far-away risk", async () => {
    const setup = await withAda();
    const { request } = await setup.services.logins.createLoginRequest({
      desktopKey: DESKTOP_KEY,
      desktop: SYDNEY_DESKTOP,
    });
    expect(request.proximity).toBeNull();

    const opened = await setup.services.approvals.openApproval({
      body: { userCode: request.userCode },
      phone: STOCKHOLM_PHONE,
    });
    expect(opened.request.proximity).toEqual(FAR);
    expect((await setup.store.getLoginRequest(request.id))?.proximity).toEqual(FAR);
    const review = toLoginReview(opened.request, { viewer: STOCKHOLM_PHONE });
    expect(review.proximity).toEqual(FAR);
    expect(review.desktop.place).toBe("Sydney, Australia");
    expect(review.risks).toEqual([
      {
        code: "far_away",
        message:
          "The computer asking to sign in seems to be near Sydney, Australia, about 15,600 km from this phone. " +
          "If you are not there yourself, someone may be trying to trick you into letting them in.",
      },
    ]);
  });

  it("keeps far_away when a phone beside the computer opens it again afterwards", async () => {
    const setup = await withAda();
    const { request } = await setup.services.logins.createLoginRequest({
      desktopKey: DESKTOP_KEY,
      desktop: SYDNEY_DESKTOP,
    });
    await setup.services.approvals.openApproval({ body: { userCode: request.userCode }, phone: STOCKHOLM_PHONE });
    const again = await setup.services.approvals.openApproval({
      body: { userCode: request.userCode },
      phone: SYDNEY_PHONE,
    });
    expect(again.request.proximity).toEqual(FAR);
  });

  it("takes the latest phone's verdict while nothing was far", async () => {
    const setup = await withAda();
    const { request } = await setup.services.logins.createLoginRequest({
      desktopKey: DESKTOP_KEY,
      desktop: SYDNEY_DESKTOP,
    });
    const near = await setup.services.approvals.openApproval({
      body: { userCode: request.userCode },
      phone: SYDNEY_PHONE,
    });
    expect(near.request.proximity).toEqual({ verdict: "same_network", distanceKm: null, otherCountry: false });
    expect(toLoginReview(near.request, { viewer: SYDNEY_PHONE }).risks).toEqual([]);
    const far = await setup.services.approvals.openApproval({
      body: { userCode: request.userCode },
      phone: STOCKHOLM_PHONE,
    });
    expect(far.request.proximity).toEqual(FAR);
  });

  it("follows the configured policy", async () => {
    const setup = await withAda({ PROXIMITY_OTHER_COUNTRY_IS_FAR: "false", PROXIMITY_FAR_KM: "20000" });
    const { request } = await setup.services.logins.createLoginRequest({
      desktopKey: DESKTOP_KEY,
      desktop: SYDNEY_DESKTOP,
    });
    const opened = await setup.services.approvals.openApproval({
      body: { userCode: request.userCode },
      phone: STOCKHOLM_PHONE,
    });
    expect(opened.request.proximity).toEqual({ ...FAR, verdict: "same_area" });
  });

  it("judges a push opened by its number like a QR, and lists it before that for the phone looking", async () => {
    const setup = await withAda();
    const { login } = await setup.services.push.createPushLogin({
      desktopKey: DESKTOP_KEY,
      username: "ada",
      desktop: SYDNEY_DESKTOP,
    });
    // Every phone of the person hears the broadcast, each from its own address: no verdict in it.
    expect(setup.published.pushes.at(-1)?.review).toMatchObject({
      proximity: { verdict: "unknown", distanceKm: null, otherCountry: false },
      risks: [],
    });
    const [listed] = await setup.services.push.inbox({ userId: setup.ada.id, viewer: STOCKHOLM_PHONE });
    expect(listed?.proximity).toEqual(FAR);

    const stored = await setup.store.getLoginRequest(login.id);
    const matched = await setup.services.push.matchPush({
      id: login.id,
      userId: setup.ada.id,
      choice: stored!.push!.matchNumber!,
      phone: STOCKHOLM_PHONE,
    });
    expect(matched.matched).toBe(true);
    expect(matched.request.proximity).toEqual(FAR);
  });

  it("says unknown for an app's server asking (CIBA): its address is not where the person is", async () => {
    const setup = await withAda();
    const request = await setup.services.push.createAppPush({
      target: setup.ada.id,
      source: "app:call-centre",
      id: "ciba-proximity",
      desktop: SYDNEY_DESKTOP,
      app: { name: "Bank call centre", via: "backchannel", bindingMessage: null },
      oidc: { kind: "ciba", id: "ciba-proximity" },
      expiresAt: setup.clock.now() + 60_000,
    });
    const [listed] = await setup.services.push.inbox({ userId: setup.ada.id, viewer: STOCKHOLM_PHONE });
    expect(listed).toMatchObject({ id: request.id, proximity: { verdict: "unknown" }, risks: [] });
    const opened = await setup.services.push.matchPush({
      id: request.id,
      userId: setup.ada.id,
      choice: undefined,
      phone: STOCKHOLM_PHONE,
    });
    expect(opened.request.proximity).toEqual({ verdict: "unknown", distanceKm: null, otherCountry: false });
  });
});

describe("proximityAfterOpening", () => {
  const near: Proximity = { verdict: "same_area", distanceKm: 12, otherCountry: false };

  it("takes the new verdict unless far_away was seen before", () => {
    expect(proximityAfterOpening({ stored: null, judged: near })).toEqual(near);
    expect(proximityAfterOpening({ stored: near, judged: FAR })).toEqual(FAR);
    expect(proximityAfterOpening({ stored: FAR, judged: near })).toEqual(FAR);
  });
});

describe("toLoginReview's risk message", () => {
  it("says another country when it knows no distance, and leaves out a place it does not know", async () => {
    const setup = await withAda();
    const { request } = await setup.services.logins.createLoginRequest({
      desktopKey: DESKTOP_KEY,
      desktop: { ...SYDNEY_DESKTOP, place: null },
    });
    const review = toLoginReview(
      { ...request, proximity: { verdict: "far_away", distanceKm: null, otherCountry: true } },
      { viewer: STOCKHOLM_PHONE },
    );
    expect(review.risks[0]?.message).toMatch(
      /^The computer asking to sign in seems to be in another country than this phone\. /,
    );
  });
});
