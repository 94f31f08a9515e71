import type { LoginReview, Proximity } from "@countersign/shared";
import { nearPlace, proximityText } from "./proximity-text.js";

/**
 * Where the computer is: the approximate place first ("near Stockholm, Sweden"), the address it
 * came from in smaller text for whoever wants to check it; just the address if no place is known.
 */
export function DesktopPlace(props: { desktop: LoginReview["desktop"] }): React.JSX.Element {
  const { desktop } = props;
  const place = nearPlace(desktop);
  // Without a place, the address is all there is to show: in full size, as before.
  if (place === null) return <>{desktop.ip ?? "Unknown address"}</>;
  return (
    <>
      {place}
      {desktop.ip !== null && <small className="address muted"> {desktop.ip}</small>}
    </>
  );
}

/**
 * The proximity verdict as its own banner (UI brief: "the proximity verdict as its own banner").
 * `data-verdict` and the class carry the verdict for styling and for tests; far away is marked by
 * an icon and words as well as colour.
 */
export function ProximityBanner(props: { proximity: Proximity }): React.JSX.Element {
  const { verdict } = props.proximity;
  return (
    <p className={`proximity proximity-${verdict}`} data-verdict={verdict}>
      {verdict === "far_away" && (
        <span className="proximity-icon" aria-hidden="true">
          ⚠{" "}
        </span>
      )}
      {proximityText(props.proximity)}
    </p>
  );
}
