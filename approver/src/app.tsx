import { useEffect, useState, type FormEvent } from "react";
import {
  parseApproverDeviceFragment,
  parseApproverEnrolFragment,
  parseApproverLoginFragment,
  typedCodeKind,
} from "@countersign/shared";
import { AccountView } from "./account-view.js";
import { PushCard } from "./push-card.js";
import { ScanView } from "./scan-view.js";
import { useInbox } from "./use-inbox.js";
import { JoinWithLink } from "./second-phone.js";
import { useAccount } from "./use-account.js";
import { FarAwayCheck } from "./far-away-check.js";
import { isFarAway } from "./proximity-text.js";
import { reviewTitle } from "./review-title.js";
import { useApproval, type ApprovalTarget } from "./use-approval.js";
import { DesktopPlace, ProximityBanner } from "./where-from.js";

function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = (): void => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

export function App(): React.JSX.Element {
  const hash = useHash();
  const [typed, setTyped] = useState<ApprovalTarget | null>(null);
  const join = parseApproverEnrolFragment(hash);
  const request = approvalTargetOf(hash) ?? typed;
  let content: React.JSX.Element;
  if (join !== null) content = <JoinWithLink token={join.token} onJoined={() => (window.location.hash = "")} />;
  else if (request === null) content = <Home onCode={setTyped} />;
  else
    content = (
      <Review
        target={request}
        onDone={() => {
          // Back to Home: forget the typed code and the link that opened the request.
          setTyped(null);
          if (window.location.hash !== "") window.location.hash = "";
        }}
      />
    );
  return (
    <main className="page">
      <h1>Countersign</h1>
      {content}
    </main>
  );
}

/** What a link opened: a QR code's sign-in, or a device's code from its verification link. */
function approvalTargetOf(hash: string): ApprovalTarget | null {
  const link = parseApproverLoginFragment(hash);
  if (link !== null) return { kind: "login", body: link };
  const device = parseApproverDeviceFragment(hash);
  return device === null ? null : { kind: "device", userCode: device.userCode };
}

function Home(props: { onCode: (target: ApprovalTarget) => void }): React.JSX.Element {
  const { account, enrol, refresh } = useAccount();
  const [problem, setProblem] = useState<string | null>(null);
  const [scanning, setScanning] = useState(false);
  if (account.status === "loading") return <p>Loading…</p>;
  if (account.status === "none") {
    const submit = (event: FormEvent<HTMLFormElement>): void => {
      event.preventDefault();
      const form = new FormData(event.currentTarget);
      void enrol({ username: String(form.get("username")), displayName: String(form.get("displayName")) }).then(
        setProblem,
      );
    };
    return (
      <form onSubmit={submit} aria-labelledby="enrol-title">
        <h2 id="enrol-title">Set up this phone</h2>
        <label>
          Username <input name="username" autoComplete="username webauthn" required />
        </label>
        <label>
          Your name <input name="displayName" autoComplete="name" required />
        </label>
        {problem !== null && <p role="alert">{problem}</p>}
        <button type="submit">Create passkey</button>
      </form>
    );
  }
  const submitCode = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get("code"));
    // Eight characters are a sign-in's code, nine a TV's or other device's; the server says if neither.
    props.onCode(
      typedCodeKind(code) === "device"
        ? { kind: "device", userCode: code }
        : { kind: "login", body: { userCode: code } },
    );
  };
  if (scanning) return <ScanView onClose={() => setScanning(false)} />;
  return (
    <section>
      <p>
        Signed in as <strong>{account.session.user.displayName}</strong> ({account.session.user.username}).
      </p>
      <Inbox onSessionEnded={refresh} />
      <form onSubmit={submitCode}>
        <label>
          Code shown on the computer or device <input name="code" autoCapitalize="characters" required />
        </label>
        <button type="submit">Continue</button>
      </form>
      <button className="secondary scan" onClick={() => setScanning(true)}>
        Scan a QR code
      </button>
      <AccountView session={account.session} />
    </section>
  );
}

function Review(props: { target: ApprovalTarget; onDone: () => void }): React.JSX.Element {
  const { state, approve, deny } = useApproval(props.target);
  const { account } = useAccount();
  // Every outcome ends with one way back to Home (UI.md): no dead ends.
  const done = (
    <button className="done" onClick={props.onDone}>
      Done
    </button>
  );
  switch (state.step) {
    case "opening":
      return <p>Opening the sign-in request…</p>;
    case "failed":
      return (
        <section>
          <p role="alert">{state.message}</p>
          {done}
        </section>
      );
    case "approved":
      return (
        <section>
          <p role="status">
            Approved for {state.displayName}.{" "}
            {state.review.app?.via === "device" ? "You can go back to the device." : "You can return to your computer."}
          </p>
          {done}
        </section>
      );
    case "denied":
      return (
        <section>
          <p role="status">Denied. Nobody was signed in.</p>
          {done}
        </section>
      );
    case "review": {
      const { review } = state.opened;
      // Far from a computer's screen: the loud stop. A device's or an app's request has no digits to type.
      const farCheck = isFarAway(review) && (review.app === null || review.app.via === "browser");
      return (
        <section aria-labelledby="review-title">
          <h2 id="review-title">{reviewTitle(review)}</h2>
          <dl>
            {/* The site the computer shows in its address bar: this app's own origin, which serves both. */}
            <dt>Site</dt>
            <dd className="site">{window.location.host}</dd>
            {account.status === "enrolled" && (
              <>
                <dt>Your account here</dt>
                <dd>
                  {account.session.user.displayName} ({account.session.user.username})
                </dd>
              </>
            )}
            <dt>{review.app?.via === "device" ? "Device" : "Computer"}</dt>
            <dd>
              {review.desktop.browser ?? "Unknown browser"} on {review.desktop.os ?? "an unknown system"}
            </dd>
            <dt>Where</dt>
            <dd>
              <DesktopPlace desktop={review.desktop} />
            </dd>
            <dt>Started</dt>
            <dd>{new Date(review.createdAt).toLocaleTimeString()}</dd>
            <dt>Time left</dt>
            <dd>
              <TimeLeft until={review.expiresAt} />
            </dd>
          </dl>
          <ProximityBanner proximity={review.proximity} />
          {/* The loud stop below says it all for a far-away computer; otherwise the plain warnings. */}
          {!farCheck &&
            review.risks.map((risk) => (
              <p key={risk.code} className="risk">
                {risk.message}
              </p>
            ))}
          {farCheck ? (
            <FarAwayCheck
              review={review}
              digitsLabel="two digits"
              busy={state.busy}
              problem={state.problem}
              onConfirm={(digits) => approve(Number(digits))}
              onReport={() => deny("not_me")}
            />
          ) : (
            <>
              <p className="warning">
                Only approve if you are signing in on {review.app?.via === "device" ? "that device" : "a computer"}{" "}
                yourself right now. Never approve because someone asked you to.
              </p>
              {state.problem !== null && <p role="alert">{state.problem}</p>}
              <div className="choices">
                <button onClick={() => deny("not_me")} disabled={state.busy}>
                  This wasn't me
                </button>
                <button onClick={() => deny("cancelled")} disabled={state.busy}>
                  Cancel
                </button>
                <button onClick={() => approve()} disabled={state.busy}>
                  Approve
                </button>
              </div>
            </>
          )}
        </section>
      );
    }
  }
}

function TimeLeft(props: { until: number }): React.JSX.Element {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.max(0, Math.round((props.until - now) / 1000));
  return <>{seconds > 0 ? `${seconds} s` : "expired"}</>;
}

function Inbox(props: { onSessionEnded: () => void }): React.JSX.Element | null {
  const requests = useInbox({ onSessionEnded: props.onSessionEnded });
  const [outcome, setOutcome] = useState<string | null>(null);
  if (requests.length === 0 && outcome === null) return null;
  return (
    <section aria-label="Sign-in requests" aria-live="polite">
      {outcome !== null && <p role="status">{outcome}</p>}
      {requests.map((review) => (
        <PushCard key={review.id} review={review} onDone={setOutcome} />
      ))}
    </section>
  );
}
