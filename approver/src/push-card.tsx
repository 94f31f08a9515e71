import { startAuthentication } from "@simplewebauthn/browser";
import { useEffect, useRef, useState } from "react";
import {
  API_PATHS,
  type ApprovalCeremony,
  type DenyResponse,
  type PushMatchResponse,
  type PushReview,
} from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";
import { FarAwayCheck } from "./far-away-check.js";
import { isFarAway } from "./proximity-text.js";
import { reviewTitle } from "./review-title.js";
import { DesktopPlace, ProximityBanner } from "./where-from.js";

type Step = { step: "choose" } | { step: "confirm"; approval: ApprovalCeremony };

/** How a card ended: a sentence, or a report of "This wasn't me" with what the server did. */
export type PushOutcome = { kind: "message"; text: string } | { kind: "reported"; pushesPausedUntil: number | null };

const said = (text: string): PushOutcome => ({ kind: "message", text });

const WARNING =
  "Only approve if you are signing in on a computer yourself right now. Never approve because someone asked you to.";

const appWarning = (app: string): string =>
  `Only approve if you are dealing with ${app} yourself right now and expect this request. If you did not expect it, tap "This wasn't me".`;

/**
 * One push request: pick the number the computer shows, then approve with the passkey, or deny.
 * Its outcome goes to `onDone`, not into the card: once decided, the request leaves every
 * phone's inbox (this one's too), but this phone still says what happened.
 */
export function PushCard(props: {
  review: PushReview;
  /** Opened from its notification: shown first, and the focus starts here. */
  focused: boolean;
  onDone: (outcome: PushOutcome) => void;
}): React.JSX.Element {
  const { review, onDone, focused } = props;
  const [state, setState] = useState<Step>({ step: "choose" });
  const [busy, setBusy] = useState(false);
  const titleRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (!focused) return;
    titleRef.current?.focus();
    titleRef.current?.scrollIntoView({ block: "start" });
  }, [focused]);
  const farAway = isFarAway(review);
  const fail = (error: unknown): void => onDone(said(error instanceof ApiError ? error.message : "That did not work."));

  // An app's request (CIBA) has no number: the person compares the app's message, then goes on.
  const choose = (choice: number | undefined): void => {
    setBusy(true);
    callApi<PushMatchResponse>("POST", API_PATHS.pushMatch(review.id), choice === undefined ? {} : { choice })
      .then((result) => {
        if (result.matched) setState({ step: "confirm", approval: result.approval });
        else onDone(said("That was not the number on the computer, so the request was denied."));
      })
      .catch(fail)
      .finally(() => setBusy(false));
  };

  const approve = (approval: ApprovalCeremony): void => {
    setBusy(true);
    void (async () => {
      try {
        const credential = await startAuthentication({ optionsJSON: approval.options as never });
        await callApi("POST", API_PATHS.pushApprove(review.id), { ceremonyId: approval.ceremonyId, credential });
        onDone(
          said(
            review.app === null
              ? "Approved. You can return to your computer."
              : `Approved. ${review.app.name} can go on.`,
          ),
        );
      } catch (error) {
        fail(error);
      } finally {
        setBusy(false);
      }
    })();
  };

  const deny = (reason: "not_me" | "cancelled"): void => {
    setBusy(true);
    callApi<DenyResponse>("POST", API_PATHS.pushDeny(review.id), { reason })
      .then((result) =>
        onDone(
          reason === "not_me"
            ? { kind: "reported", pushesPausedUntil: result.pushesPausedUntil ?? null }
            : said("Denied. Nobody was signed in."),
        ),
      )
      .catch(fail)
      .finally(() => setBusy(false));
  };

  return (
    <article className="push-card" aria-labelledby={`push-title-${review.id}`}>
      <h2 id={`push-title-${review.id}`} tabIndex={-1} ref={titleRef}>
        {reviewTitle(review)}
      </h2>
      {review.app?.via === "backchannel" ? (
        <p>
          Asked by {review.app.name} · {new Date(review.createdAt).toLocaleTimeString()}
        </p>
      ) : (
        <>
          <p>
            {review.desktop.browser ?? "Unknown browser"} on {review.desktop.os ?? "an unknown system"} ·{" "}
            {new Date(review.createdAt).toLocaleTimeString()}
            <br />
            <DesktopPlace desktop={review.desktop} />
          </p>
          <ProximityBanner proximity={review.proximity} />
          {review.risks.map((risk) => (
            <p key={risk.code} className="risk">
              {risk.message}
            </p>
          ))}
        </>
      )}
      {farAway && state.step === "choose" ? (
        // Far away: no numbers to pick (the server sends none); the person types the one the
        // computer shows, which someone sent another's request cannot see.
        <FarAwayCheck
          review={review}
          digitsLabel="number"
          busy={busy}
          problem={null}
          onConfirm={(digits) => choose(Number(digits))}
          onReport={() => deny("not_me")}
        />
      ) : (
        <p className="warning">{review.app?.via === "backchannel" ? appWarning(review.app.name) : WARNING}</p>
      )}
      {farAway && state.step === "choose" ? null : state.step === "choose" && review.choices.length === 0 ? (
        <>
          {review.app?.bindingMessage != null && (
            <p>
              {review.app.name} says it shows: <strong className="binding-message">{review.app.bindingMessage}</strong>
            </p>
          )}
          <button onClick={() => choose(undefined)} disabled={busy}>
            {review.app?.bindingMessage == null ? "Review the request" : "It matches: continue"}
          </button>
        </>
      ) : state.step === "choose" ? (
        <>
          <p>Pick the number shown on the computer:</p>
          <div className="choices">
            {review.choices.map((choice) => (
              <button key={choice} onClick={() => choose(choice)} disabled={busy}>
                {choice}
              </button>
            ))}
          </div>
        </>
      ) : (
        // Approve and deny equally easy to reach, never alike to look at (UI.md); Cancel quiet.
        <div className="stack">
          <button onClick={() => approve(state.approval)} disabled={busy}>
            Approve
          </button>
          <button className="danger" onClick={() => deny("not_me")} disabled={busy}>
            This wasn't me
          </button>
          <button className="quiet" onClick={() => deny("cancelled")} disabled={busy}>
            Cancel
          </button>
        </div>
      )}
      {state.step === "choose" && !farAway && (
        <div className="stack">
          <button className="danger" onClick={() => deny("not_me")} disabled={busy}>
            This wasn't me
          </button>
        </div>
      )}
    </article>
  );
}
