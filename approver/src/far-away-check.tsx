import { useId, useState, type FormEvent } from "react";
import { approximateDistance, type LoginReview } from "@countersign/shared";

/**
 * The loud stop before approving a sign-in from a computer far from this phone (DESIGN §11): the
 * look of a relayed QR code or a pushed request someone is talking the person into. Approving
 * takes a deliberate extra step, typing the two digits the computer itself shows, which a person
 * sitting at that computer sees and a person who was sent a link does not.
 */
export function FarAwayCheck(props: {
  review: LoginReview;
  /** What the digits are called on the computer: the check digits, or a push's number. */
  digitsLabel: string;
  busy: boolean;
  problem: string | null;
  onConfirm: (digits: string) => void;
  /** "This wasn't me": reports it, like the button on every review. */
  onReport: () => void;
}): React.JSX.Element {
  const { review } = props;
  const [digits, setDigits] = useState("");
  const inputId = useId();
  const titleId = useId();
  const where = review.desktop.place === null ? "" : `, near ${review.desktop.place}`;
  const distance =
    review.proximity.distanceKm === null ? "" : `, ${approximateDistance(review.proximity.distanceKm)} away`;
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (/^\d{2}$/.test(digits)) props.onConfirm(digits);
  };
  return (
    <section className="far-away" role="alert" aria-labelledby={titleId}>
      <h3 id={titleId}>Someone may be trying to trick you</h3>
      <p>
        The computer asking to sign in is far from this phone{where}
        {distance}. If someone sent you this code or link, or asked you to approve, do not go on.
      </p>
      <button className="danger" onClick={props.onReport} disabled={props.busy}>
        Deny and report
      </button>
      <form onSubmit={submit}>
        <label htmlFor={inputId}>
          Only if you are at that computer yourself: type the {props.digitsLabel} it shows
        </label>
        <input
          id={inputId}
          inputMode="numeric"
          autoComplete="off"
          pattern="[0-9]{2}"
          maxLength={2}
          value={digits}
          onChange={(event) => setDigits(event.target.value.replace(/\D/g, "").slice(0, 2))}
        />
        {props.problem !== null && <p role="alert">{props.problem}</p>}
        <button type="submit" className="secondary" disabled={props.busy || digits.length !== 2}>
          Approve anyway
        </button>
      </form>
    </section>
  );
}
