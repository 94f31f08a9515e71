import { approximateDistance, type LoginReview, type Proximity } from "@countersign/shared";

/**
 * The proximity verdict in words, for its banner: "Same network as this phone", "In your area",
 * "Far from this phone: about 1,200 km", "Location unknown".
 */
export function proximityText(proximity: Proximity): string {
  switch (proximity.verdict) {
    case "same_network":
      return "Same network as this phone";
    case "same_area":
      return "In your area";
    case "far_away":
      if (proximity.distanceKm !== null) return `Far from this phone: ${approximateDistance(proximity.distanceKm)}`;
      return proximity.otherCountry ? "Far from this phone: in another country" : "Far from this phone";
    case "unknown":
      return "Location unknown";
  }
}

/** What a review's screen branches on: a far-away computer gets the loud warning. */
export function isFarAway(review: Pick<LoginReview, "proximity">): boolean {
  return review.proximity.verdict === "far_away";
}

/** "near Stockholm, Sweden"; null when the place is unknown (then only the address is shown). */
export function nearPlace(desktop: LoginReview["desktop"]): string | null {
  return desktop.place === null ? null : `near ${desktop.place}`;
}
