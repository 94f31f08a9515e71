import type { LoginReview } from "@countersign/shared";

/** "Sign in to Notes on a computer?": what is asking, in the person's words. */
export function reviewTitle(review: Pick<LoginReview, "app">): string {
  if (review.app === null) return "Sign in on a computer?";
  switch (review.app.via) {
    case "browser":
      return `Sign in to ${review.app.name} on a computer?`;
    case "device":
      return `Sign in to ${review.app.name} on a TV or other device?`;
    case "backchannel":
      return `Sign in to ${review.app.name}?`;
  }
}
